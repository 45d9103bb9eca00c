"""Vectors of the knowledge cards: each phrasing (question) and each answer.

The bundled cards' vectors ship precomputed in `knowledge/card_vectors.npz` (rows) with
`knowledge/card_vectors.json` (the model, and [card, kind, text key] of each row), written
by `lianhu embed-cards`; so a fresh data directory needs no embedding to start. An ingest copies
what it needs into the generation as `card_vectors.npz`, embedding only texts not found there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.search.embedders import PASSAGE, QUERY, Embedder, text_key

SHIPPED_VECTORS = "card_vectors.npz"
SHIPPED_MANIFEST = "card_vectors.json"
GENERATION_FILE = "card_vectors.npz"


@dataclass(frozen=True)
class CardText:
    card_id: str
    kind: str  # question | answer
    text: str

    @property
    def role(self) -> str:
        """A phrasing is embedded as a question (like the user's), an answer as a passage."""
        return QUERY if self.kind == "question" else PASSAGE

    def key(self, model_name: str) -> str:
        return text_key(model_name, self.text, self.role)


def card_texts(cards: Iterable[dict]) -> list[CardText]:
    """Each card's phrasings, then its answer; `cards` are card bodies as the index stores them."""
    out = []
    for card in cards:
        out.extend(CardText(card["id"], "question", q) for q in card["questions"])
        out.append(CardText(card["id"], "answer", card["answer"]))
    return out


@dataclass
class CardVectors:
    """Rows of vectors with the card id of each row; NaN rows where a text has no vector."""

    question_matrix: np.ndarray  # (phrasings, dim) float32
    question_card_ids: list[str]
    answer_matrix: np.ndarray  # (cards, dim) float32
    answer_card_ids: list[str]

    @classmethod
    def empty(cls, dim: int = 0) -> CardVectors:
        none = np.zeros((0, dim), dtype=np.float32)
        return cls(none, [], none.copy(), [])

    @classmethod
    def assemble(cls, texts: Sequence[CardText], vectors: np.ndarray) -> CardVectors:
        questions = [i for i, t in enumerate(texts) if t.kind == "question"]
        answers = [i for i, t in enumerate(texts) if t.kind == "answer"]
        return cls(
            question_matrix=np.ascontiguousarray(vectors[questions], dtype=np.float32),
            question_card_ids=[texts[i].card_id for i in questions],
            answer_matrix=np.ascontiguousarray(vectors[answers], dtype=np.float32),
            answer_card_ids=[texts[i].card_id for i in answers],
        )

    def save(self, directory: Path) -> None:
        np.savez(
            directory / GENERATION_FILE,
            question_matrix=self.question_matrix,
            question_card_ids=np.asarray(self.question_card_ids, dtype=str),
            answer_matrix=self.answer_matrix,
            answer_card_ids=np.asarray(self.answer_card_ids, dtype=str),
        )

    @classmethod
    def load(cls, directory: Path) -> CardVectors | None:
        try:
            data = np.load(directory / GENERATION_FILE)
        except FileNotFoundError:
            return None
        return cls(
            question_matrix=data["question_matrix"],
            question_card_ids=data["question_card_ids"].tolist(),
            answer_matrix=data["answer_matrix"],
            answer_card_ids=data["answer_card_ids"].tolist(),
        )


def shipped_vectors(knowledge_dir: Path, model_name: str) -> dict[str, np.ndarray]:
    """Key → vector from the precomputed file, if it was made with this model; else {}."""
    manifest = _read_manifest(knowledge_dir)
    if manifest is None or manifest.get("model") != model_name:
        return {}
    matrix = np.load(knowledge_dir / SHIPPED_VECTORS)["vectors"]
    return {key: matrix[i] for i, (_, _, key) in enumerate(manifest["rows"])}


def stale_card_texts(knowledge_dir: Path, cards: Iterable[dict], model_name: str) -> list[CardText]:
    """Card texts whose vectors the shipped file lacks (all of them for another model)."""
    have = set()
    manifest = _read_manifest(knowledge_dir)
    if manifest is not None and manifest.get("model") == model_name:
        have = {key for _, _, key in manifest["rows"]}
    return [t for t in card_texts(cards) if t.key(model_name) not in have]


def write_shipped(
    knowledge_dir: Path, cards: Iterable[dict], embedder: Embedder
) -> tuple[int, int]:
    """Write the precomputed card vectors for `cards`; returns (texts, newly embedded).
    Vectors of texts that did not change are kept, so a card edit embeds only that card."""
    texts = card_texts(cards)
    known = shipped_vectors(knowledge_dir, embedder.name)
    keys = [t.key(embedder.name) for t in texts]
    todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in known}
    for role in (QUERY, PASSAGE):
        batch = [(k, t.text) for k, t in todo.items() if t.role == role]
        if batch:
            fresh = embedder.embed([text for _, text in batch], role)
            known.update({key: fresh[i] for i, (key, _) in enumerate(batch)})
    matrix = np.stack([known[k] for k in keys]).astype(np.float32)
    # one row a line, so a card edit shows in a diff as the lines of that card
    rows = ",\n".join(json.dumps([t.card_id, t.kind, k]) for t, k in zip(texts, keys, strict=True))
    head = json.dumps({"model": embedder.name, "dim": int(matrix.shape[1])})[:-1]
    tmp_vectors = knowledge_dir / (SHIPPED_VECTORS + ".tmp.npz")
    np.savez(tmp_vectors, vectors=matrix)
    tmp_manifest = knowledge_dir / (SHIPPED_MANIFEST + ".tmp")
    tmp_manifest.write_text(f'{head}, "rows": [\n{rows}\n]}}\n', encoding="utf-8")
    os.replace(tmp_vectors, knowledge_dir / SHIPPED_VECTORS)
    os.replace(tmp_manifest, knowledge_dir / SHIPPED_MANIFEST)
    return len(texts), len(todo)


def _read_manifest(knowledge_dir: Path) -> dict | None:
    try:
        return json.loads((knowledge_dir / SHIPPED_MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
