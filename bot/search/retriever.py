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
from bot.search.tokenize import tokenizer, tokens
from bot.search.topics import TopicWords
from ingest.store import IndexStore

log = logging.getLogger(__name__)

# Local regulations (上海市…, 浙江省…) bind only their own place: their articles count for less
# unless the question or the member names that place.
PROVINCES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
).split()
OTHER_REGION_FACTOR = 0.75
# Documents no knowledge card cites count for this much: the cards mark out the policies
# volunteers are asked about, so a large background collection (laws-full) does not crowd
# them out. Without any card every document counts the same.
UNCITED_DOCUMENT_FACTOR = 0.8
# The articles a well-fitting card cites gain this much (times the card's fit), so a card that
# fits only partly still lifts the articles it was written from.
CARD_CITATION_BOOST = 0.5
CARDS_CONSIDERED = 3
# A card whose topic the question does not name, when it names others (张婶想办低保 and a 特困
# card), fits this much less.
OTHER_TOPIC_FACTOR = 0.75
# The most a word of the question weighs for how much of it a card covers (_meaning_weight).
MEANING_WEIGHT_CAP = 4.0
BIGRAM_WEIGHT = 0.6
DOC_WEIGHT = 0.35
CANDIDATES = 200
# Pseudo-relevance feedback: words shared by the best PRF_DOCS articles, PRF_TERMS of them.
PRF_DOCS = 3
PRF_TERMS = 10
PRF_WEIGHT = 0.3
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
        use_cards: bool = True,
        topics: TopicWords | None = None,
    ):
        self.store = store
        self.topics = topics or TopicWords()
        self.rrf_k = rrf_k
        self.keyword = keyword
        self.terms = terms
        self.dense = dense
        self._cards = {c["id"]: c for c in store.cards()} if use_cards else {}
        cited = {title_key(doc) for card in self._cards.values() for doc, _ in card["citations"]}
        self._doc_factors = np.asarray(
            [
                1.0 if not cited or title_key(t) in cited else UNCITED_DOCUMENT_FACTOR
                for t in keyword.doc_titles
            ],
            dtype=np.float32,
        )
        self._doc_regions = [
            next((p for p in PROVINCES if title.startswith(p)), "") for title in keyword.doc_titles
        ]
        self._domain_words = frozenset(
            word for colloquial, official in terms.entries for word in (colloquial, *official)
        )
        self._card_tokens = {
            unit.article: set(unit.tokens.split()) for unit in store.iter_units("card")
        }
        row_of_unit = {int(u): i for i, u in enumerate(keyword.art_unit_ids)}
        self._card_rows = {
            card_id: [
                row_of_unit[u]
                for doc, article in card["citations"]
                for u in store.law_unit_ids(doc, article)
                if u in row_of_unit
            ]
            for card_id, card in self._cards.items()
        }

    def analyze(self, question: str) -> Query:
        return analyze(
            question, self.terms, self.keyword.art_words.vocab, self.keyword.pinyin_words
        )

    def search(self, question: str, k: int = 10, region: str | None = None) -> Ranking:
        query = self.analyze(question)
        ranking = Ranking(query=query)
        ranking.cards = self._rank_cards(query)
        if self.keyword.art_words.n_units:
            rows, fused, raw = self._rank_articles(query, region, ranking.cards)
            ranking.features.update(raw)
            if self.dense is not None:
                rows, fused = self._fuse_dense(question, rows, fused)
            ranking.articles = self._distinct(rows, fused, k)
        ranking.features.update(self._features(query, ranking))
        return ranking

    def _rank_articles(self, query: Query, region: str | None, cards: list[tuple[dict, float]]):
        """Article rows best first, their fused scores, and how well the best match fits the
        question (raw best score over the score of a unit made of exactly its words)."""
        kw = self.keyword
        words = kw.art_words.scores(query.words)
        bigrams = kw.art_bigrams.scores(query.bigrams)
        doc_raw = kw.doc_words.scores(query.words)
        docs = _scaled(doc_raw)
        fused = (
            _scaled(words) + BIGRAM_WEIGHT * _scaled(bigrams) + DOC_WEIGHT * docs[kw.art_doc_rows]
        )
        fused *= (self._region_factors(query.norm + (region or "")) * self._doc_factors)[
            kw.art_doc_rows
        ]
        for card, fit in cards[:CARDS_CONSIDERED]:
            rows_cited = self._card_rows.get(card["id"], [])
            fused[rows_cited] += CARD_CITATION_BOOST * fit
        fused += PRF_WEIGHT * self._feedback(query, _top_rows(fused, PRF_DOCS))
        rows = _top_rows(fused, CANDIDATES)
        raw = {
            "word_fit": float(words.max()) / _ceiling(kw.art_words, query.words),
            "bigram_fit": float(bigrams.max()) / _ceiling(kw.art_bigrams, query.bigrams),
            "doc_fit": float(doc_raw.max()) / _ceiling(kw.doc_words, query.words),
        }
        return rows, fused, raw

    def _feedback(self, query: Query, top: np.ndarray) -> np.ndarray:
        """Pseudo-relevance feedback: the words the best few articles share (weighted by IDF)
        are searched too, which reaches articles that say the same thing in other words."""
        weights: dict[str, float] = {}
        units = self.store.units_by_id([int(self.keyword.art_unit_ids[r]) for r in top])
        for unit in units.values():
            for term in set(unit.tokens.split()):
                if term not in query.words:
                    weights[term] = weights.get(term, 0.0) + self.keyword.art_words.term_idf(term)
        best = dict(sorted(weights.items(), key=lambda kv: -kv[1])[:PRF_TERMS])
        return _scaled(self.keyword.art_words.scores({t: 1.0 for t in best})) if best else 0.0

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
        """Best cards first, each with its fit (0..1): how well its phrasings match the words
        it shares with the question (its score over the score of a card made of exactly the
        question's words), times the square root of the share of the question's meaning
        (see _meaning_weight) that the card speaks about at all; less for a card whose topic
        the question does not name when it names others."""
        kw = self.keyword
        if not self._cards or not kw.card_words.n_units:
            return []
        scores = kw.card_words.scores(query.words) + BIGRAM_WEIGHT * kw.card_bigrams.scores(
            query.bigrams
        )
        ceiling = _ceiling(kw.card_words, query.words) + BIGRAM_WEIGHT * _ceiling(
            kw.card_bigrams, query.bigrams
        )
        words = self._meaning_units(query)
        total = sum(weight for weight, _ in words.values()) or 1.0
        named = self.topics.named(query.corrected or query.norm)
        out = []
        for i in np.argsort(-scores)[:5]:
            if scores[i] <= 0:
                break
            card_id = kw.card_ids[i]
            card_tokens = self._card_tokens[card_id]
            covered = sum(w for w, forms in words.values() if forms & card_tokens)
            fit = min(1.0, float(scores[i]) / ceiling) * (covered / total) ** 0.5
            if named and self._cards[card_id]["topic"] not in named:
                fit *= OTHER_TOPIC_FACTOR
            out.append((self._cards[card_id], fit))
        return sorted(out, key=lambda pair: -pair[1])

    def _meaning_units(self, query: Query) -> dict[str, tuple[float, set[str]]]:
        """The question's words for coverage: each whole word (一家人, not also 一家 and 家人)
        with its weight and the forms that count as saying it: itself, its parts, and the
        official words the term dictionary gives for it. Read from the corrected question, so a
        typo (新农报) counts as the word it stands for (新农保)."""
        # single characters count only when the term dictionary knows them (要征 → 征 → 征收)
        originals = [t for t in query.own_words if len(t) >= 2 or t in self._domain_words]
        units = {}
        for t in originals:
            if any(t != u and t in u for u in originals):
                continue  # a part of a longer word of the question
            forms = {t, *(u for u in originals if u in t)}
            official = self.terms.expand(t, {t})
            forms.update(tok for phrase in official for tok in tokens(phrase, normalized=True))
            units[t] = (self._meaning_weight(t), forms)
        return units

    def _meaning_weight(self, term: str) -> float:
        """How much a word of the question matters for coverage. A word of the term dictionary
        (低保, 五保, 宅基地) is what the question is about: full weight, however many cards use
        it. Other words weigh their rarity (IDF among articles, else among cards) up to that
        same cap, so an incidental rare word (三千, 一个月) cannot outweigh the subject. A real
        word nobody uses (jieba knows it: 玉米, 话费) weighs the cap too: nothing covers it, and
        a question about it is one no card answers. A made-up token (a name, 王大爷, or jieba's
        guess 要征) and other single characters weigh nothing."""
        kw = self.keyword
        if term in self._domain_words:
            return MEANING_WEIGHT_CAP
        if len(term) < 2:
            return 0.0
        known = kw.art_words.term_idf(term) or kw.card_words.term_idf(term)
        if known:
            return min(known, MEANING_WEIGHT_CAP)
        return MEANING_WEIGHT_CAP if tokenizer().FREQ.get(term) else 0.0

    def _features(self, query: Query, ranking: Ranking) -> dict[str, float]:
        """Signals of whether the corpus can answer at all, for the refusal model."""
        kw = self.keyword
        # whole words only: single characters (征, 罚, and the pieces of a guessed word) are
        # in almost every vocabulary and would make any question look covered
        original = [t for t, w in query.words.items() if w >= 1.0 and len(t) >= 2]
        known = [t for t in original if t in kw.art_words.vocab]
        # real words (jieba knows them) that no document uses and no term entry explains:
        # 话费, 追肥, 公积金 — the question is about something the corpus does not cover
        explained = set(query.expansions) | {w for _, w in query.corrections}
        colloquial = self.terms.colloquial_words()
        foreign = [
            t
            for t in original
            if t not in kw.art_words.vocab
            and len(t) >= 2
            and t not in explained
            and not any(t in c or c in t for c in colloquial)
            and tokenizer().FREQ.get(t)
        ]
        mass = sum(kw.art_words.term_idf(t) for t in known)
        matched = 0.0
        if ranking.articles:
            top = self.store.units_by_id([ranking.articles[0].unit_id])[ranking.articles[0].unit_id]
            top_tokens = set(top.tokens.split())
            matched = sum(kw.art_words.term_idf(t) for t in known if t in top_tokens)
        return {
            "coverage": matched / mass if mass else 0.0,
            "oov_share": 1 - len(known) / len(original) if original else 1.0,
            "foreign_words": float(len(foreign)),
            "card_fit": ranking.cards[0][1] if ranking.cards else 0.0,
            "current_figure": 1.0 if query.asks_current_figure else 0.0,
        }


def _top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores, best first."""
    n = min(n, scores.size)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(-scores, n - 1)[:n]
    return rows[np.argsort(-scores[rows], kind="stable")]


def _ceiling(index, terms: dict[str, float]) -> float:
    """The BM25 score of a unit holding each of the question's own words once (tf weight ≈ 1)."""
    total = sum(w * index.term_idf(t) for t, w in terms.items() if w >= 1.0)
    return total if total > 0 else 1.0
