"""The vector step of an ingest run: find or compute a vector for every article, every
article sentence and every card text of the generation being built, and export them beside
its keyword index.

Vectors are looked up by key (model + role + text) in, in turn: the generation being served
(its exported arrays), the precomputed card vectors in knowledge/, and the chromadb store; only
the rest is embedded, in batches each committed to chromadb before the next starts, so a run
killed with kill -9 loses at most one batch and the next run carries on from there.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.search.card_vectors import CardVectors, card_texts, shipped_vectors
from bot.search.embedders import PASSAGE, Embedder, text_key
from bot.search.vectors import (
    ARTICLES,
    SENTENCE_ROWS,
    SENTENCES,
    KeyedMatrix,
    VectorStore,
    read_meta,
    store_path,
    write_meta,
)
from ingest.store import IndexStore

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

PASSAGE_CHARS = 500  # e5 reads 512 tokens; a longer article is judged by its start
SENTENCE_CHARS = 200
_SENTENCE_END = re.compile(r"(?<=[。；;！？!?])")
_ARTICLE_LABEL = re.compile(r"^第[零〇一二三四五六七八九十百千]+条(之[一二三四五六七八九十]+)?\s*")


def passage_text(title: str, text: str) -> str:
    """What is embedded for an article: its document's title, then the article, so that an
    article such as "第九条 本办法所称……" carries what it is about."""
    return f"{title} {text}"[:PASSAGE_CHARS]


def article_sentences(text: str) -> list[str]:
    """An article's sentences (clauses ending in 。；！？), without its 第X条 label; pieces
    shorter than four characters say too little to match on their own."""
    body = _ARTICLE_LABEL.sub("", text).replace("\n", "")
    parts = (p.strip() for p in _SENTENCE_END.split(body))
    return [p[:SENTENCE_CHARS] for p in parts if len(p) >= 4]


@dataclass
class VectorReport:
    model: str = ""
    rows: int = 0  # article rows of the keyword index
    sentences: int = 0
    cards: int = 0  # card texts (phrasings and answers)
    reused: int = 0  # vectors found (served generation, shipped card file, chromadb)
    embedded: int = 0  # texts embedded in this run
    missing: int = 0  # articles and sentences left without a vector (a keyword-only run)
    seconds: float = 0.0  # time spent embedding
    error: str = ""

    def summary(self) -> str:
        text = f"向量（{self.model.split(':')[0]}）：已有 {self.reused}，新算 {self.embedded}"
        if self.missing:
            text += f"，还缺 {self.missing} 条（再运行 lianhu ingest 补上，期间按关键词回答）"
        if self.error:
            text += f"；向量计算失败：{self.error}"
        return text


def vectors_complete(generation: Path | None, embedder: Embedder, sentences: bool = True) -> bool:
    """True when the generation has a vector of this model for every text it needs."""
    meta = read_meta(generation) if generation is not None else None
    return bool(
        meta
        and meta.get("model") == embedder.name
        and meta.get("missing", 1) == 0
        and (not sentences or meta.get("sentence_missing", 1) == 0)
        and meta.get("card_missing", 1) == 0
    )


def export_vectors(
    settings: Settings,
    store: IndexStore,
    art_unit_ids: np.ndarray,
    target: Path,
    base: Path | None,
    embedder: Embedder,
    *,
    keyword_only: bool = False,
    progress: Progress | None = None,
) -> VectorReport:
    """Write the article, sentence and card vectors of the build in `target`."""
    name = embedder.name
    articles, sentences, sentence_rows = _law_texts(store, art_unit_ids)
    cards = card_texts(store.cards())
    article_keys = [text_key(name, t) for t in articles]
    sentence_keys = [text_key(name, t) for t in sentences]
    card_keys = [t.key(name) for t in cards]
    report = VectorReport(
        model=name, rows=len(articles), sentences=len(sentences), cards=len(cards)
    )

    with _VectorLookup(settings, base, name) as known:
        known.add_shipped(shipped_vectors(settings.knowledge_dir, name))
        every = {*article_keys, *sentence_keys, *card_keys}
        known.find_in_store(every, open_store=not keyword_only)
        report.reused = sum(1 for k in every if k in known)

        # The cards are few and decide which card fits: always embedded, even keyword-only.
        # Then every article before any sentence, so a long run killed half-way has already
        # the vectors that matter most (a row without sentence vectors is judged as a whole).
        def passages(keys: list[str], texts: list[str]) -> list[tuple[str, str, str]]:
            return [(k, t, PASSAGE) for k, t in zip(keys, texts, strict=True)]

        stages = [("卡片向量", [(t.key(name), t.text, t.role) for t in cards])]
        if not keyword_only:
            stages.append(("条文向量", passages(article_keys, articles)))
            if settings.embeddings.sentences:
                stages.append(("句子向量", passages(sentence_keys, sentences)))
        try:
            for stage, items in stages:
                report.seconds += known.embed(
                    embedder, stage, items, settings.embeddings.batch_size, progress
                )
        except Exception as exc:  # a server down must not lose the keyword index
            log.warning("向量计算失败，仍可按关键词检索：%s", exc)
            report.error = str(exc)
        report.embedded = known.embedded
        wanted = [*article_keys, *(sentence_keys if settings.embeddings.sentences else [])]
        report.missing = sum(1 for k in wanted if k not in known)

        dim = known.dim or int(getattr(embedder, "dim", 0) or 0)
        if not dim:
            return report  # nothing known and nothing embedded: no vector files at all
        article_part = known.keyed(article_keys, dim)
        sentence_part = known.keyed(sentence_keys, dim)
        card_part = known.keyed(card_keys, dim)
        article_part.save(target, ARTICLES)
        if sentence_part.missing < len(sentence_keys):
            # not when none has a vector: laws-full's would be 270 MB of NaN
            sentence_part.save(target, SENTENCES)
            np.save(target / SENTENCE_ROWS, np.asarray(sentence_rows, dtype=np.int32))
        CardVectors.assemble(cards, card_part.matrix).save(target)
        write_meta(
            target,
            {
                "model": name,
                "dim": dim,
                "rows": len(articles),
                "missing": article_part.missing,
                "sentences": len(sentences),
                "sentence_missing": sentence_part.missing,
                "cards": len(cards),
                "card_missing": card_part.missing,
            },
        )
        own_store = not settings.embeddings.store_dir  # a shared one holds others' vectors too
        if own_store and not keyword_only and known.store is not None and not report.error:
            known.store.delete_except(every)
        return report


def _law_texts(
    store: IndexStore, art_unit_ids: np.ndarray
) -> tuple[list[str], list[str], list[int]]:
    """The embedded text of each article row; every sentence, with the row it belongs to."""
    row_of_unit = {int(u): i for i, u in enumerate(art_unit_ids)}
    articles = [""] * len(art_unit_ids)
    sentences_of: list[list[str]] = [[] for _ in art_unit_ids]
    for unit in store.iter_units("law"):
        row = row_of_unit.get(unit.id)
        if row is not None:
            articles[row] = passage_text(unit.title, unit.text)
            sentences_of[row] = article_sentences(unit.text)
    sentences = [s for row in sentences_of for s in row]
    rows = [r for r, row in enumerate(sentences_of) for _ in row]
    return articles, sentences, rows


class _VectorLookup:
    """Key → vector from every place a vector may already be, plus what this run embeds."""

    def __init__(self, settings: Settings, base: Path | None, name: str):
        self.settings = settings
        self.name = name
        self.vectors: dict[str, np.ndarray] = {}
        self.store: VectorStore | None = None
        self.embedded = 0
        self.dim = 0
        meta = read_meta(base) if base is not None else None
        if meta is not None and meta.get("model") == name:
            for stem in (ARTICLES, SENTENCES):
                part = KeyedMatrix.load(base, stem)
                if part is not None:
                    for key, row in part.by_key().items():
                        self.vectors[key] = part.matrix[row]
            self.dim = int(meta["dim"])

    def __enter__(self) -> _VectorLookup:
        return self

    def __exit__(self, *exc) -> None:
        if self.store is not None:
            self.store.close()

    def __contains__(self, key: str) -> bool:
        return key in self.vectors

    def add_shipped(self, shipped: dict[str, np.ndarray]) -> None:
        for key, vector in shipped.items():
            self.vectors.setdefault(key, vector)
            self.dim = self.dim or len(vector)

    def find_in_store(self, keys: set[str], *, open_store: bool) -> None:
        """Look the keys still unknown up in chromadb (opened only when there are some, and,
        for a keyword-only run, only when it already exists)."""
        wanted = sorted(k for k in keys if k not in self.vectors)
        if not wanted:
            return
        if not open_store and not store_path(self.settings).is_dir():
            return
        self.store = VectorStore(store_path(self.settings), self.name)
        for key, vector in self.store.get(wanted).items():
            self.vectors[key] = vector
            self.dim = self.dim or len(vector)

    def embed(
        self,
        embedder: Embedder,
        stage: str,
        items: list[tuple[str, str, str]],
        batch: int,
        progress: Progress | None,
    ) -> float:
        """Embed the (key, text, role) items not known yet in batches, each committed to
        chromadb before the next; returns the seconds spent."""
        todo: dict[str, tuple[str, str]] = {}
        for key, text, role in items:
            if key not in self.vectors:
                todo.setdefault(key, (text, role))
        if not todo:
            return 0.0
        if self.store is None:
            self.store = VectorStore(store_path(self.settings), self.name)
        started = time.perf_counter()
        pending = list(todo.items())
        done = 0
        for i in range(0, len(pending), batch):
            chunk = pending[i : i + batch]
            for role in sorted({role for _, (_, role) in chunk}):
                keys = [k for k, (_, r) in chunk if r == role]
                vectors = embedder.embed([todo[k][0] for k in keys], role)
                self.store.add(keys, vectors)
                for key, vector in zip(keys, vectors, strict=True):
                    self.vectors[key] = vector
                self.dim = self.dim or int(vectors.shape[1])
                self.embedded += len(keys)
                done += len(keys)
            if progress:
                progress(stage, done, len(pending))
        return time.perf_counter() - started

    def keyed(self, keys: list[str], dim: int) -> KeyedMatrix:
        matrix = np.full((len(keys), dim), np.nan, dtype=np.float32)
        for i, key in enumerate(keys):
            vector = self.vectors.get(key)
            if vector is not None:
                matrix[i] = vector
        return KeyedMatrix(matrix, np.asarray(keys, dtype="S40"))
