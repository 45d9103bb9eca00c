"""Where vectors live: the chromadb store of record, and the plain arrays a generation serves.

chromadb (`data/index/chroma`, one collection per model) keeps every vector ever computed,
keyed by `text_key(model, text)`, and is committed batch by batch while an ingest embeds, so a
killed run loses at most one batch. At the end of a run the vectors of the current units are
exported into the generation as `.npy` arrays aligned with the keyword index, which the
serving process reads with numpy alone (importing chromadb would cost it about 50 MB):

    articles.npy, articles_keys.npy    (article rows, dim) float32 and the key of each row
    sentences.npy, sentences_keys.npy  each article's sentences, sentence_rows.npy their row (absent
                                       while no sentence has a vector)
    card_vectors.npz                   the cards' phrasings and answers (bot/search/card_vectors.py)
    vectors.json                       {"model", "dim", and per part its size and missing count}

NaN rows stand for texts without a vector yet; the keys let the next run reuse every vector
without opening chromadb.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

META = "vectors.json"
ARTICLES = "articles"
SENTENCES = "sentences"
SENTENCE_ROWS = "sentence_rows.npy"
COLLECTION_PREFIX = "units"


def store_path(settings) -> Path:
    """Where chromadb keeps the vectors: `[embeddings] store_dir`, which several data
    directories may share (each vector is keyed by model and text), else the data directory's
    own `index/chroma`."""
    own = settings.embeddings.store_dir
    return Path(own) if own else settings.index_dir / "chroma"


class VectorStore:
    """The chromadb collection of one model (imported only when a run needs it)."""

    def __init__(self, path: Path, model_name: str):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.client = chromadb.PersistentClient(
            path=str(path),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        # names allow only [a-zA-Z0-9._-]: one collection per model, named by its hash
        name = f"{COLLECTION_PREFIX}-{hashlib.sha1(model_name.encode()).hexdigest()[:16]}"
        self.collection = self.client.get_or_create_collection(
            name=name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    def close(self) -> None:
        """Release the store: chromadb keeps one in-memory view per path and process, which
        would go stale when another process (the next ingest run) writes to it."""
        self.client.close()

    def count(self) -> int:
        return self.collection.count()

    def get(self, keys: Iterable[str], batch: int = 2000) -> dict[str, np.ndarray]:
        """The stored vectors among `keys`."""
        keys = list(keys)
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), batch):
            result = self.collection.get(ids=keys[i : i + batch], include=["embeddings"])
            for key, vector in zip(result["ids"], result["embeddings"], strict=True):
                found[key] = np.asarray(vector, dtype=np.float32)
        return found

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        """Commit one batch (chromadb writes it through before returning)."""
        self.collection.upsert(ids=keys, embeddings=vectors)

    def delete_except(self, wanted: set[str]) -> int:
        """Drop vectors no unit or card uses any more; returns how many."""
        stale = [k for k in self.collection.get(include=[])["ids"] if k not in wanted]
        for i in range(0, len(stale), 1000):
            self.collection.delete(ids=stale[i : i + 1000])
        return len(stale)


@dataclass
class KeyedMatrix:
    """Vectors with the text key of each row; NaN rows where a text has no vector yet."""

    matrix: np.ndarray  # (n, dim) float32
    keys: np.ndarray  # (n,) bytes

    @property
    def missing(self) -> int:
        return int(np.isnan(self.matrix[:, 0]).sum()) if len(self.matrix) else 0

    def save(self, directory: Path, stem: str) -> None:
        np.save(directory / f"{stem}.npy", np.ascontiguousarray(self.matrix, dtype=np.float32))
        np.save(directory / f"{stem}_keys.npy", self.keys)

    @classmethod
    def load(cls, directory: Path, stem: str, *, mmap: bool = True) -> KeyedMatrix | None:
        try:
            matrix = np.load(directory / f"{stem}.npy", mmap_mode="r" if mmap else None)
            keys = np.load(directory / f"{stem}_keys.npy")
        except FileNotFoundError:
            return None
        return cls(matrix, keys)

    def by_key(self) -> dict[str, int]:
        """Key → row, for the rows that have a vector."""
        if not len(self.matrix):
            return {}
        present = ~np.isnan(self.matrix[:, 0])
        return {k.decode(): i for i, k in enumerate(self.keys) if present[i]}


def write_meta(directory: Path, meta: dict) -> None:
    """Written last: a generation has vectors once `vectors.json` exists."""
    tmp = directory / (META + ".tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, directory / META)


def read_meta(directory: Path) -> dict | None:
    try:
        return json.loads((directory / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
