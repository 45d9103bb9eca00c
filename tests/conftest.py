"""Session-wide test settings."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def shared_vector_store(tmp_path_factory):
    """One vector store for the whole session: every test that ingests the policy corpus with
    the bundled model embeds each text once, not once per data directory (minutes each)."""
    previous = os.environ.get("LIANHU_EMBEDDINGS__STORE_DIR")
    if previous:  # a developer's own store, kept between runs
        yield previous
        return
    store = tmp_path_factory.mktemp("vector-store")
    os.environ["LIANHU_EMBEDDINGS__STORE_DIR"] = str(store)
    yield store
    if previous is None:
        os.environ.pop("LIANHU_EMBEDDINGS__STORE_DIR", None)
    else:
        os.environ["LIANHU_EMBEDDINGS__STORE_DIR"] = previous
