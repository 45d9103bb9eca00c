"""Ranking articles (and cards) for a question: keyword scores fused with optional dense ones.

score(article) = words + BIGRAM_WEIGHT·character pairs + DOC_WEIGHT·(its document's score),
each part scaled to its best value for this question. The document part lets a question
that names its place or subject ("浙江", "五保") prefer that document's articles.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np

from bot.search.keyword import KeywordIndex
from bot.search.query import Query, TermDictionary, analyze
from ingest.store import IndexStore

log = logging.getLogger(__name__)

# Local regulations (上海市…, 浙江省…) bind only their own place: their articles count for less
# unless the question or the member names that place.
PROVINCES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
).split()
OTHER_REGION_FACTOR = 0.75
BIGRAM_WEIGHT = 0.6
DOC_WEIGHT = 0.35
CANDIDATES = 200
DENSE_CANDIDATES = 50


@dataclass(frozen=True)
class RankedArticle:
    unit_id: int
    title: str
    article: str
    text: str
    score: float


@dataclass
class Ranking:
    query: Query
    articles: list[RankedArticle] = field(default_factory=list)
    cards: list[tuple[dict, float]] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)


def title_key(title: str) -> str:
    """Titles compare without white space and a leading 中华人民共和国."""
    title = re.sub(r"\s+", "", title)
    return title.removeprefix("中华人民共和国")


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


class Retriever:
    def __init__(
        self,
        store: IndexStore,
        keyword: KeywordIndex,
        terms: TermDictionary,
        dense=None,
        rrf_k: int = 60,
    ):
        self.store = store
        self.rrf_k = rrf_k
        self.keyword = keyword
        self.terms = terms
        self.dense = dense
        self._cards = {c["id"]: c for c in store.cards()}
        self._doc_regions = [
            next((p for p in PROVINCES if title.startswith(p)), "") for title in keyword.doc_titles
        ]

    def analyze(self, question: str) -> Query:
        return analyze(
            question, self.terms, self.keyword.art_words.vocab, self.keyword.pinyin_words
        )

    def search(self, question: str, k: int = 10, region: str | None = None) -> Ranking:
        query = self.analyze(question)
        ranking = Ranking(query=query)
        kw = self.keyword
        if kw.art_words.n_units:
            rows, fused = self._rank_articles(query, region)
            if self.dense is not None:
                rows, fused = self._fuse_dense(question, rows, fused)
            ranking.articles = self._distinct(rows, fused, k)
        ranking.cards = self._rank_cards(query)
        ranking.features = self._features(query, ranking)
        return ranking

    def _rank_articles(self, query: Query, region: str | None) -> tuple[np.ndarray, np.ndarray]:
        kw = self.keyword
        words = kw.art_words.scores(query.words)
        bigrams = kw.art_bigrams.scores(query.bigrams)
        self._last_raw = (float(words.max()), float(bigrams.max()))
        docs = _scaled(kw.doc_words.scores(query.words))
        fused = (
            _scaled(words) + BIGRAM_WEIGHT * _scaled(bigrams) + DOC_WEIGHT * docs[kw.art_doc_rows]
        )
        fused *= self._region_factors(query.norm + (region or ""))[kw.art_doc_rows]
        n = min(CANDIDATES, fused.size)
        rows = np.argpartition(-fused, n - 1)[:n]
        rows = rows[np.argsort(-fused[rows], kind="stable")]
        return rows, fused

    def _fuse_dense(self, question: str, rows: np.ndarray, fused: np.ndarray):
        """Reciprocal-rank fusion of the keyword ranking with the dense one."""
        dense = self.dense.search(question, n=DENSE_CANDIDATES)
        if not dense:
            return rows, fused
        rrf: dict[int, float] = {}
        for rank, row in enumerate(rows):
            rrf[int(row)] = rrf.get(int(row), 0.0) + 1.0 / (self.rrf_k + rank + 1)
        for rank, (row, _) in enumerate(dense):
            rrf[row] = rrf.get(row, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        order = sorted(rrf, key=rrf.get, reverse=True)
        scores = np.zeros_like(fused)
        for row in order:
            scores[row] = rrf[row]
        return np.asarray(order, dtype=np.int64), scores

    def _region_factors(self, context: str) -> np.ndarray:
        """Per document: OTHER_REGION_FACTOR for a regulation of a place the context does not
        name, 1 for everything else."""
        out = np.ones(len(self._doc_regions), dtype=np.float32)
        for i, place in enumerate(self._doc_regions):
            if place and place not in context:
                out[i] = OTHER_REGION_FACTOR
        return out

    def _distinct(self, rows: np.ndarray, fused: np.ndarray, k: int) -> list[RankedArticle]:
        units = self.store.units_by_id([int(self.keyword.art_unit_ids[r]) for r in rows])
        seen, out = set(), []
        for r in rows:
            if fused[r] <= 0:
                break
            unit = units[int(self.keyword.art_unit_ids[r])]
            key = (title_key(unit.title), unit.article)
            if key in seen:
                continue
            seen.add(key)
            out.append(RankedArticle(unit.id, unit.title, unit.article, unit.text, float(fused[r])))
            if len(out) >= k:
                break
        return out

    def _rank_cards(self, query: Query) -> list[tuple[dict, float]]:
        kw = self.keyword
        if not kw.card_words.n_units:
            return []
        scores = kw.card_words.scores(query.words) + BIGRAM_WEIGHT * kw.card_bigrams.scores(
            query.bigrams
        )
        order = np.argsort(-scores)[:5]
        return [(self._cards[kw.card_ids[i]], float(scores[i])) for i in order if scores[i] > 0]

    def _features(self, query: Query, ranking: Ranking) -> dict[str, float]:
        kw = self.keyword
        original = {t for t in query.words if query.words[t] >= 1.0}
        known = [t for t in original if t in kw.art_words.vocab]
        mass = sum(kw.art_words.term_idf(t) for t in known)
        top_tokens = set()
        if ranking.articles:
            unit = self.store.units_by_id([ranking.articles[0].unit_id])[
                ranking.articles[0].unit_id
            ]
            top_tokens = set(unit.tokens.split()) | set(unit.norm)
        matched = sum(kw.art_words.term_idf(t) for t in known if t in top_tokens)
        return {
            "n_tokens": float(len(original)),
            "n_known": float(len(known)),
            "coverage": matched / mass if mass else 0.0,
            "oov_share": 1 - len(known) / len(original) if original else 1.0,
            "top_card": ranking.cards[0][1] if ranking.cards else 0.0,
            "card_ceiling": self._card_ceiling(query),
            "word_fit": self._last_raw[0] / self._ceiling(kw.art_words, query.words)
            if ranking.articles
            else 0.0,
            "bigram_fit": self._last_raw[1] / self._ceiling(kw.art_bigrams, query.bigrams)
            if ranking.articles
            else 0.0,
        }

    @staticmethod
    def _ceiling(index, terms: dict[str, float]) -> float:
        total = sum(w * index.term_idf(t) for t, w in terms.items() if w >= 1.0)
        return total if total > 0 else 1.0

    def _card_ceiling(self, query: Query) -> float:
        """The card score a card made of exactly the question's words would get (tf = 1)."""
        kw = self.keyword
        words = sum(w * kw.card_words.term_idf(t) for t, w in query.words.items() if w >= 1.0)
        bigrams = sum(w * kw.card_bigrams.term_idf(b) for b, w in query.bigrams.items())
        return words + BIGRAM_WEIGHT * bigrams
