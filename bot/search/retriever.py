"""Ranking articles (and cards) for a question.

Every candidate article gets a few signals — keyword (BM25 over words, over the dictionary's
official words, over character pairs, over its document), semantic (cosine similarity with the
question under the bundled e5 model, also relative to the best article and document) and card
(how well the cards citing it fit the question) — and a fitted linear ranker orders them
(bot/search/learned.py, weights from `lianhu fit`). Candidates are the union of the keyword and
the semantic top lists and the articles the best cards cite, so neither side loses what it alone
finds. The same pass yields the question-level signals the refusal model reads.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np

from bot.search.keyword import KeywordIndex
from bot.search.learned import OPEN, RANK_SIGNALS, AnswerModel, LinearModel, topic_logits
from bot.search.places import Places
from bot.search.query import Query, TermDictionary, analyze
from bot.search.tokenize import tokenizer
from ingest.store import IndexStore

log = logging.getLogger(__name__)

# Local regulations (上海市…, 浙江省…) bind only their own place.
# How many articles each side contributes to the candidates, and how many cards are consulted.
# These bound the work per question; they are not tuned weights.
KEYWORD_CANDIDATES = 40
DENSE_CANDIDATES = 40
CARDS_CONSIDERED = 5


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
    mode: str = "keyword"
    articles: list[RankedArticle] = field(default_factory=list)
    cards: list[tuple[dict, float]] = field(default_factory=list)  # best first, fit 0..1
    features: dict[str, float] = field(default_factory=dict)  # question-level, for refusal
    query_vector: np.ndarray | None = None
    card_mode: str = "keyword"  # `dense` when the cards were matched by meaning
    provinces: frozenset[str] = frozenset()  # named by the question or the member's region


def card_mode(cards: list[tuple[dict, float]]) -> str:
    return "dense" if any(card.get("_sim") for card, _ in cards) else "keyword"


@dataclass
class Candidates:
    """What the ranker sees for one question: candidate rows and their signals."""

    rows: np.ndarray
    x: dict[str, np.ndarray]
    question: dict[str, float]

    def matrix(self, names: tuple[str, ...]) -> np.ndarray:
        """Columns of the named signals; "a*b" is the product of two."""
        return np.stack([self._column(n) for n in names], axis=1).astype(np.float64)

    def _column(self, name: str) -> np.ndarray:
        if "*" in name:
            a, b = name.split("*")
            return self.x[a] * self.x[b]
        return self.x[name]


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
        card_vectors=None,
        model: AnswerModel | None = None,
        use_cards: bool = True,
        memory=None,
        places: Places | None = None,
    ):
        self.store = store
        self.keyword = keyword
        self.terms = terms
        self.dense = dense
        self.card_vectors = card_vectors if use_cards else None
        self.model = model
        self._cards = {c["id"]: c for c in store.cards()} if use_cards else {}
        self.places = places or Places()
        self._doc_regions = [Places.province_of_title(title) for title in keyword.doc_titles]
        row_of_unit = {int(u): i for i, u in enumerate(keyword.art_unit_ids)}
        self._row_of_unit = row_of_unit
        self._card_rows = {
            card_id: [
                row_of_unit[u]
                for doc, article in card["citations"]
                for u in store.law_unit_ids(doc, article)
                if u in row_of_unit
            ]
            for card_id, card in self._cards.items()
        }
        self._card_index = {cid: i for i, cid in enumerate(keyword.card_ids)}
        self._rows_of_key: dict[tuple[str, str], list[int]] | None = None
        self.set_memory(memory)
        fitted_over = set(model.documents) if model else set()
        self._unfitted_documents = bool(fitted_over) and any(
            title_key(t) not in fitted_over for t in keyword.doc_titles
        )

    def set_memory(self, memory) -> None:
        """Remembered training questions (vectors, in-scope flags, labelled articles)."""
        self.memory = memory
        if memory is not None and self._rows_of_key is None:
            self._rows_of_key = {}
            for row, key in enumerate(self.row_keys(np.arange(self.keyword.art_words.n_units))):
                self._rows_of_key.setdefault(key, []).append(row)
        # the articles each remembered question was labelled with, as rows
        self._memory_rows = [
            np.asarray([r for key in keys for r in self._rows_of_key.get(key, [])], dtype=np.int64)
            for keys in (memory.keys if memory is not None else [])
        ]

    @property
    def mode(self) -> str:
        """`dense` when the semantic model and the articles' vectors are there, else `keyword`."""
        return "dense" if self.dense is not None and self.dense.has_vectors else "keyword"

    @property
    def answer_mode(self) -> str:
        """The model set that answers: OPEN when the index holds documents the dense model was
        not fitted over (and the model has that set), else `mode`."""
        if self.mode == "dense" and self._unfitted_documents and self.model.mode(OPEN):
            return OPEN
        return self.mode

    def analyze(self, question: str) -> Query:
        return analyze(
            question, self.terms, self.keyword.art_words.vocab, self.keyword.pinyin_words
        )

    # -- the one entry point -------------------------------------------------------------------
    def search(self, question: str, k: int = 10, region: str | None = None) -> Ranking:
        query = self.analyze(question)
        ranking = Ranking(query=query, mode=self.answer_mode)
        qvec = self._query_vector(question)
        ranking.query_vector = qvec
        ranking.cards = self._rank_cards(query, qvec)
        ranking.provinces = self.places.provinces_named(query.norm + (region or ""))
        cands = self.candidates(
            query,
            qvec,
            ranking.cards,
            ranking.provinces,
            self.memory_sims(qvec),
            self.memory.usable(ranking.mode) if self.memory is not None else None,
        )
        ranking.features = dict(cands.question)
        ranking.features["topic"] = self._topic(qvec, ranking.mode)
        if cands.rows.size:
            scores = self._score(cands, ranking.mode)
            order = np.argsort(-scores, kind="stable")
            ranking.features["top_score"] = float(scores[order[0]])
            ranking.articles = self._distinct(cands.rows[order], scores[order], k)
        else:
            ranking.features["top_score"] = 0.0
        ranking.card_mode = card_mode(ranking.cards)
        ranking.cards = self.order_cards(ranking.cards, ranking.card_mode)
        ranking.features["card_fit"] = ranking.cards[0][1] if ranking.cards else 0.0
        ranking.features["current_figure"] = 1.0 if query.asks_current_figure else 0.0
        return ranking

    def _query_vector(self, question: str) -> np.ndarray | None:
        if self.dense is None:
            return None
        try:
            return self.dense.embed_query(question)
        except Exception as exc:  # the model failing must not stop an answer
            log.warning("语义模型出错，本次只按关键词排序：%s", exc)
            return None

    def _score(self, cands: Candidates, mode: str) -> np.ndarray:
        ranker = self._ranker(mode)
        if ranker is None:
            # no fitted model for this mode (a custom install before `lianhu fit`): plain sum
            names = [n for n in RANK_SIGNALS[mode] if n.startswith(("kw_", "dense"))]
            return cands.matrix(tuple(names)).sum(1)
        return ranker.logits(cands.matrix(ranker.features))

    def _topic(self, qvec: np.ndarray | None, mode: str) -> float:
        """The fitted topic model's logit for this question vector; NaN (neither for nor
        against) without a vector or a topic model. It was fitted beside the remembered
        questions, so it is read only when they are (same embedding model)."""
        models = self.model.mode(mode) if self.model else None
        if qvec is None or models is None or models.topic is None or self.memory is None:
            return np.nan
        if models.topic.weights.size != qvec.size:
            return np.nan
        return float(topic_logits(models.topic, qvec)[0])

    def _ranker(self, mode: str) -> LinearModel | None:
        models = self.model.mode(mode) if self.model else None
        return models.ranker if models else None

    # -- candidates and their signals ----------------------------------------------------------
    def candidates(
        self,
        query: Query,
        qvec: np.ndarray | None,
        cards: list[tuple[dict, float]],
        provinces: frozenset[str] | None = None,
        memory_sims: np.ndarray | None = None,
        memory_allowed: np.ndarray | None = None,
    ) -> Candidates:
        """Candidate rows and their signals. `memory_sims` are the question's similarities to
        the remembered training questions; `memory_allowed` masks those that may be used
        (while fitting, a question never sees itself or its held-out fold)."""
        kw = self.keyword
        question: dict[str, float] = {}
        n = kw.art_words.n_units
        if not n:
            question.update(self._lexical_fit(query, None, np.zeros(0)))
            question.update(dense_max=0.0, card_sim_max=self._best_card_sim(cards))
            return Candidates(np.zeros(0, dtype=np.int64), {}, question)
        own = {t: 1.0 for t, w in query.words.items() if w >= 1.0}
        expansion = {t: w for t, w in query.words.items() if w < 1.0}
        words = _scaled(kw.art_words.scores(own))
        expansions = _scaled(kw.art_words.scores(expansion)) if expansion else np.zeros(n)
        bigrams = _scaled(kw.art_bigrams.scores(query.bigrams))
        docs = _scaled(kw.doc_words.scores(query.words))[kw.art_doc_rows]
        lexical = words + expansions + bigrams
        kw_top = _top_rows(lexical, KEYWORD_CANDIDATES)
        pool = [kw_top]
        dense = None
        if qvec is not None and self.mode == "dense":
            dense = self.dense.article_scores(qvec)
            dense = np.nan_to_num(
                dense, nan=float(np.nanmin(dense)) if np.isfinite(dense).any() else 0.0
            )
            pool.append(_top_rows(dense, DENSE_CANDIDATES))
        for card, _ in cards:
            pool.append(np.asarray(self._card_rows.get(card["id"], []), dtype=np.int64))
        near = self._near_examples(memory_sims, memory_allowed)
        pool.extend(self._memory_rows[i] for i in near)
        rows = np.unique(np.concatenate(pool)).astype(np.int64)
        x = {
            "kw_words": words[rows],
            "kw_expansions": expansions[rows],
            "kw_bigrams": bigrams[rows],
            "kw_doc": docs[rows],
            "kw_rr": _reciprocal_rank(lexical, rows),
        }
        if provinces is None:
            provinces = self.places.provinces_named(query.norm)
        other, own = self._region_signals(provinces)
        x.update(other_region=other[kw.art_doc_rows[rows]], own_region=own[kw.art_doc_rows[rows]])
        card_sim = np.zeros(rows.size)
        card_kw = np.zeros(rows.size)
        card_kw_best = np.zeros(rows.size)
        position = {int(r): i for i, r in enumerate(rows)}
        for rank, (card, _) in enumerate(cards):
            for r in self._card_rows.get(card["id"], []):
                i = position[r]
                card_sim[i] = max(card_sim[i], card.get("_sim", 0.0))
                card_kw[i] = max(card_kw[i], card.get("_kw", 0.0))
                if rank == 0:
                    card_kw_best[i] = 1.0
        best_sim = self._best_card_sim(cards)
        x.update(
            card_sim=card_sim,
            card_sim_gap=card_sim - best_sim,
            card_kw=card_kw,
            card_kw_best=card_kw_best,
        )
        if dense is not None:
            best = float(dense.max())
            doc_best = np.full(len(kw.doc_titles), -1.0)
            np.maximum.at(doc_best, kw.art_doc_rows, dense)
            # the candidates hold the best articles by meaning, so the best sentence among
            # them stands for the best anywhere (scoring only them is cheap at any size)
            sentences = self.dense.sentence_scores(qvec, rows)
            sentences = np.where(np.isnan(sentences), dense[rows], sentences)
            x.update(
                dense_sentence=sentences,
                dense_sentence_gap=sentences - float(sentences.max()),
                dense=dense[rows],
                dense_gap=dense[rows] - best,
                dense_doc_gap=doc_best[kw.art_doc_rows[rows]] - best,
                dense_rr=_reciprocal_rank(dense, rows),
            )
            question["dense_max"] = best
        else:
            question["dense_max"] = 0.0
        question["card_sim_max"] = best_sim
        if not self._cards:  # nothing to compare with: unobserved, not "no card fits"
            for name in ("card_sim", "card_sim_gap", "card_kw", "card_kw_best"):
                x[name] = np.full(rows.size, np.nan)
            question["card_sim_max"] = np.nan
        question.update(self._lexical_fit(query, words, lexical))
        cands = Candidates(rows, x, question)
        self.fill_memory(cands, memory_sims, memory_allowed)
        return cands

    # -- remembered training questions ---------------------------------------------------------
    def memory_sims(self, qvec: np.ndarray | None) -> np.ndarray | None:
        if qvec is None or self.memory is None or self.mode != "dense":
            return None
        return self.memory.matrix @ qvec

    def _near_examples(self, sims: np.ndarray | None, allowed: np.ndarray | None) -> list[int]:
        if sims is None:
            return []
        masked = np.where(self._allowed(sims, allowed) & self.memory.in_scope, sims, -np.inf)
        top = _top_rows(masked, CARDS_CONSIDERED)
        return [int(i) for i in top if np.isfinite(masked[i])]

    @staticmethod
    def _allowed(sims: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
        return np.ones(sims.size, dtype=bool) if allowed is None else allowed

    def fill_memory(
        self, cands: Candidates, sims: np.ndarray | None, allowed: np.ndarray | None
    ) -> None:
        """mem_sim (per row): the best similarity of a remembered question labelled with that
        article; mem_in_max / mem_out_max (per question): the best similarity to a remembered
        in-scope / out-of-scope question."""
        n = cands.rows.size
        mem_sim = np.zeros(n)
        cands.question["mem_in_max"] = 0.0
        cands.question["mem_out_max"] = 0.0
        if sims is not None and n:
            ok = self._allowed(sims, allowed)
            inside, outside = ok & self.memory.in_scope, ok & ~self.memory.in_scope
            cands.question["mem_in_max"] = float(sims[inside].max()) if inside.any() else 0.0
            cands.question["mem_out_max"] = float(sims[outside].max()) if outside.any() else 0.0
            position = {int(r): i for i, r in enumerate(cands.rows)}
            for e in np.flatnonzero(inside):
                for r in self._memory_rows[e]:
                    i = position.get(int(r))
                    if i is not None and sims[e] > mem_sim[i]:
                        mem_sim[i] = sims[e]
        if sims is None:  # no remembered questions (or no semantic model): unobserved
            cands.question["mem_in_max"] = cands.question["mem_out_max"] = np.nan
        cands.x["mem_sim"] = mem_sim
        cands.x["mem_sim_gap"] = mem_sim - cands.question["mem_in_max"]

    def _region_signals(self, named: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per document: (1 for a regulation of a province not named, 1 for one of a province
        named, directly or through a city or district)."""
        other = [1.0 if place and place not in named else 0.0 for place in self._doc_regions]
        own = [1.0 if place and place in named else 0.0 for place in self._doc_regions]
        return np.asarray(other), np.asarray(own)

    # -- cards ---------------------------------------------------------------------------------
    def _rank_cards(self, query: Query, qvec: np.ndarray | None) -> list[tuple[dict, float]]:
        """The best cards, each with its fit: the best cosine similarity between the question
        and the card's phrasings when the semantic model is there, else how much of the
        question's words the card's phrasings match (BM25 over the score of a card made of
        exactly those words). Copies of the cards carry `_sim` and `_kw` for the ranker."""
        kw = self.keyword
        if not self._cards or not kw.card_words.n_units:
            return []
        lexical = kw.card_words.scores(query.words) / _ceiling(kw.card_words, query.words)
        lexical = np.minimum(lexical, 1.0)
        sims = self._card_sims(qvec)
        # the closest cards in meaning and in words, so neither side misses one
        order = [kw.card_ids[i] for i in np.argsort(-lexical)[:CARDS_CONSIDERED] if lexical[i] > 0]
        if sims is not None:
            order = [*sorted(sims, key=sims.get, reverse=True)[:CARDS_CONSIDERED], *order]
        out = []
        for card_id in dict.fromkeys(order):
            if card_id not in self._cards:
                continue
            i = self._card_index.get(card_id)
            card_kw = float(lexical[i]) if i is not None else 0.0
            sim = sims[card_id] if sims is not None else 0.0
            card = {**self._cards[card_id], "_sim": sim, "_kw": card_kw}
            out.append((card, sim if sims is not None else card_kw))
        return sorted(out, key=lambda pair: -pair[1])

    @staticmethod
    def card_features(cards: list[tuple[dict, float]]) -> np.ndarray:
        best = max((c["_sim"] for c, _ in cards), default=0.0)
        return np.asarray(
            [[c["_sim"], c["_sim"] - best, c["_kw"]] for c, _ in cards], dtype=np.float64
        ).reshape(len(cards), 3)

    def order_cards(self, cards: list[tuple[dict, float]], mode: str) -> list[tuple[dict, float]]:
        """The considered cards, the one most likely to speak to the question first (the
        fitted card ranker; without one, by fit)."""
        models = self.model.mode(mode) if self.model else None
        if not cards or models is None or models.card_ranker is None:
            return cards
        scores = models.card_ranker.logits(self.card_features(cards))
        return [cards[i] for i in np.argsort(-scores, kind="stable")]

    def _card_sims(self, qvec: np.ndarray | None) -> dict[str, float] | None:
        cv = self.card_vectors
        if qvec is None or cv is None or not len(cv.question_card_ids):
            return None
        sims = cv.question_matrix @ qvec
        best: dict[str, float] = {}
        for card_id, s in zip(cv.question_card_ids, sims.tolist(), strict=True):
            if s > best.get(card_id, -1.0):
                best[card_id] = s
        return best

    @staticmethod
    def _best_card_sim(cards: list[tuple[dict, float]]) -> float:
        return max((c.get("_sim", 0.0) for c, _ in cards), default=0.0)

    # -- question-level lexical signals --------------------------------------------------------
    def _lexical_fit(self, query: Query, words: np.ndarray | None, lexical: np.ndarray) -> dict:
        """How much of the question the documents speak about at all, lexically."""
        kw = self.keyword
        original = [t for t, w in query.words.items() if w >= 1.0 and len(t) >= 2]
        known = [t for t in original if t in kw.art_words.vocab]
        explained = set(query.expansions) | {w for _, w in query.corrections}
        colloquial = self.terms.colloquial_words()
        foreign = [
            t
            for t in original
            if t not in kw.art_words.vocab
            and t not in explained
            and not any(t in c or c in t for c in colloquial)
            and tokenizer().FREQ.get(t)
        ]
        out = {
            "oov_share": 1 - len(known) / len(original) if original else 1.0,
            "foreign_words": float(min(len(foreign), 3)),
            "asks_detail": float(min(query.detail_cues, 3)),
            "word_fit": 0.0,
            "bigram_fit": 0.0,
            "coverage": 0.0,
        }
        if words is None or not lexical.size:
            return out
        own = {t: 1.0 for t, w in query.words.items() if w >= 1.0}
        raw_words = kw.art_words.scores(own)
        raw_bigrams = kw.art_bigrams.scores(query.bigrams)
        out["word_fit"] = min(float(raw_words.max()) / _ceiling(kw.art_words, own), 3.0)
        out["bigram_fit"] = min(
            float(raw_bigrams.max()) / _ceiling(kw.art_bigrams, query.bigrams), 3.0
        )
        mass = sum(kw.art_words.term_idf(t) for t in known)
        if mass:
            top_row = int(np.argmax(lexical))
            unit_id = int(kw.art_unit_ids[top_row])
            top_tokens = set(self.store.units_by_id([unit_id])[unit_id].tokens.split())
            out["coverage"] = sum(kw.art_words.term_idf(t) for t in known if t in top_tokens) / mass
        return out

    def sentence_scores(self, qvec: np.ndarray | None, unit_id: int) -> np.ndarray | None:
        """Similarity of the question to each sentence of one article, or None."""
        row = self._row_of_unit.get(unit_id)
        if qvec is None or row is None or self.mode != "dense":
            return None
        return self.dense.row_sentence_scores(qvec, row)

    def row_keys(self, rows: np.ndarray) -> list[tuple[str, str]]:
        """(title key, article) of each article row."""
        ids = [int(self.keyword.art_unit_ids[r]) for r in rows]
        units = self.store.units_by_id(ids)
        return [(title_key(units[i].title), units[i].article) for i in ids]

    # -- output --------------------------------------------------------------------------------
    def _distinct(self, rows: np.ndarray, scores: np.ndarray, k: int) -> list[RankedArticle]:
        units = self.store.units_by_id([int(self.keyword.art_unit_ids[r]) for r in rows[: 4 * k]])
        seen, out = set(), []
        for r, score in zip(rows, scores, strict=False):
            unit = units.get(int(self.keyword.art_unit_ids[r]))
            if unit is None:
                break
            key = (title_key(unit.title), unit.article)
            if key in seen:
                continue
            seen.add(key)
            out.append(RankedArticle(unit.id, unit.title, unit.article, unit.text, float(score)))
            if len(out) >= k:
                break
        return out


def _top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores, best first."""
    n = min(n, scores.size)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(-scores, n - 1)[:n]
    return rows[np.argsort(-scores[rows], kind="stable")]


def _reciprocal_rank(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """1 / (1 + rank) of each row among all rows by score (rank 0 = best)."""
    ranks = (scores[None, :] > scores[rows][:, None]).sum(axis=1)
    return 1.0 / (1.0 + ranks)


def _ceiling(index, terms: dict[str, float]) -> float:
    """The BM25 score of a unit holding each of the question's own words once (tf weight ≈ 1)."""
    total = sum(w * index.term_idf(t) for t, w in terms.items() if w >= 1.0)
    return total if total > 0 else 1.0
