"""Answering a policy question: retrieval → card or extractive answer → citations → reply.

The path is short on purpose:
    Answerer.answer(question)
      → Retriever.search (keyword ranking, optional dense fusion)
      → a fitting card leads, else the best article's most relevant sentence
      → at most 3 citations, each an article that retrieval or the card returned
      → refuse honestly when confidence is below the calibrated threshold.
An optional LLM may only rewrite the short answer from the cited articles (see llm.py).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.search.retriever import RankedArticle, Ranking, Retriever, title_key
from bot.services import answer_texts as T
from bot.services.answer_types import Answer, Citation
from bot.services.local_standards import local_note
from bot.services.refusal import RefusalModel

log = logging.getLogger(__name__)

MAX_CITATIONS = 3
CITATION_CHARS = 160
# A card leads when its phrasings match the question at least this well (0..1, see _card_fit).
CARD_FIT = 0.45
# …or at least this well and CARD_MARGIN times better than the next card.
CARD_FIT_WITH_MARGIN = 0.3
CARD_MARGIN = 2.0
# An article is shown beside the best one only if it scores at least this share of it.
SHOWN_SHARE = 0.75


@dataclass(frozen=True)
class Office:
    words: tuple[str, ...]
    name: str


def load_offices(path: Path) -> list[Office]:
    offices = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#") and "\t" in line:
                words, name = line.split("\t", 1)
                offices.append(Office(tuple(words.split()), name.strip()))
    return offices


class Answerer:
    def __init__(self, settings: Settings, retriever: Retriever, llm=None):
        self.settings = settings
        self.retriever = retriever
        self.llm = llm
        self.offices = load_offices(settings.knowledge_dir / "offices.tsv")
        # a model calibrated on this data directory's own index wins over the bundled one
        own = settings.index_dir / "refusal_model.json"
        self.refusal = RefusalModel.load(
            own if own.is_file() else settings.knowledge_dir / "refusal_model.json"
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, use_llm: bool = True) -> Answerer:
        from bot.search.loader import load_retriever
        from bot.services.llm import make_rewriter

        return cls(settings, load_retriever(settings), make_rewriter(settings) if use_llm else None)

    def answer(self, question: str, region: str | None = None) -> Answer:
        started = time.perf_counter()
        question = (question or "").strip()
        if not _has_words(question):
            result = Answer(question=question, answer=T.EMPTY_QUESTION, refused=True)
        else:
            ranking = self.retriever.search(
                question, k=self.settings.retrieval.top_k, region=region
            )
            result = self._compose(question, ranking, region)
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result

    # -- composing ---------------------------------------------------------------------------
    def _compose(self, question: str, ranking: Ranking, region: str | None) -> Answer:
        card, fit = self._fitting_card(ranking)
        card_refs = [tuple(c) for c in card["citations"]] if card else []
        ranked = _merge_ranked(
            [*_named_place_first(ranking, region), *card_refs[:1]],
            ranking.articles,
            self.settings.retrieval.top_k,
            also=card_refs[1:],
        )
        confidence = (
            max(fit, self.refusal.confidence(ranking.features)) if ranking.articles else fit
        )
        result = Answer(
            question=question, answer="", refused=False, ranked=ranked, confidence=confidence
        )
        office = self._office(ranking.query.norm, "")
        if ranking.query.asks_current_figure:
            # this year's amounts are set locally every year; no article states them
            note = local_note(self.settings.knowledge_dir, question, region)
            result.refused = True
            result.answer = T.FIGURE_IS_LOCAL
            result.next_steps = note or T.ASK_OFFICE.format(office=office)
            return result
        if card is None and confidence < self.settings.retrieval.min_confidence:
            result.refused = True
            result.answer = T.NO_BASIS
            result.next_steps = T.ASK_OFFICE.format(office=office)
            return result
        if card is not None:
            result.card_id = card["id"]
            result.answer = card["answer"]
            result.next_steps = card["next_steps"]
            result.citations = self._card_citations(card, ranking)
        else:
            top = ranking.articles[0]
            result.citations = self._article_citations(ranking.articles)
            result.answer = T.EXTRACTIVE.format(
                doc=top.title, article=top.article, sentence=_best_sentence(top.text, ranking)
            )
            result.next_steps = T.ASK_OFFICE_TO_CONFIRM.format(
                office=self._office(ranking.query.norm, top.title)
            )
            if self.llm is not None:
                result.answer = self.llm.rewrite(question, result.citations, result.answer)
        note = local_note(self.settings.knowledge_dir, question, region)
        if note:
            result.next_steps = f"{note}\n{result.next_steps}".strip()
        return result

    def _fitting_card(self, ranking: Ranking) -> tuple[dict | None, float]:
        """The best card, if it fits well on its own, or fits partly but clearly better than
        any other card for a question the corpus can answer (long situational questions
        carry many words no card repeats)."""
        if not ranking.cards:
            return None, 0.0
        card, fit = ranking.cards[0]
        if fit >= CARD_FIT:
            return card, fit
        runner_up = ranking.cards[1][1] if len(ranking.cards) > 1 else 0.0
        # with official documents indexed, the refusal model must agree the question is in
        # scope; with the bundled cards alone there is nothing else to consult
        in_scope = not ranking.articles or (
            self.refusal.confidence(ranking.features) >= self.settings.retrieval.min_confidence
        )
        if fit >= CARD_FIT_WITH_MARGIN and fit >= CARD_MARGIN * runner_up and in_scope:
            return card, fit
        return None, 0.0

    def _card_citations(self, card: dict, ranking: Ranking) -> list[Citation]:
        scores = {(title_key(a.title), a.article): a.score for a in ranking.articles}
        out = []
        for doc, article in card["citations"][:MAX_CITATIONS]:
            text = self.retriever.store.article_text(doc, article)
            out.append(
                Citation(
                    doc=doc,
                    article=article,
                    text=_trim(text) if text else T.ARTICLE_NOT_LOADED,
                    score=round(scores.get((title_key(doc), article), 0.0), 4),
                )
            )
        return out

    def _article_citations(self, articles: list[RankedArticle]) -> list[Citation]:
        best = articles[0].score
        shown = [a for a in articles[:MAX_CITATIONS] if a.score >= SHOWN_SHARE * best]
        return [Citation(a.title, a.article, _trim(a.text), round(a.score, 4)) for a in shown]

    def _office(self, question_norm: str, title: str) -> str:
        for office in self.offices:
            if any(w in question_norm or w in title for w in office.words):
                return office.name
        return T.DEFAULT_OFFICE


def _named_place_first(ranking: Ranking, region: str | None) -> list[tuple[str, str]]:
    """The best article of a local regulation of the place the question (or member) names:
    a local rule is more specific than the national one a card cites, so it goes first."""
    from bot.search.retriever import PROVINCES

    context = ranking.query.norm + (region or "")
    places = [p for p in PROVINCES if p in context]
    for article in ranking.articles[:5]:
        if any(article.title.startswith(p) for p in places):
            return [(article.title, article.article)]
    return []


def _merge_ranked(first, articles: list[RankedArticle], k: int, also=()) -> list[tuple[str, str]]:
    """The ranking behind an answer, distinct by (title, article): `first` (a card's main
    citation), then retrieval's articles, with `also` (a card's supporting citations) kept in
    the top k even where retrieval ranks them lower, since the answer shows them. Supporting
    citations do not go first: retrieval already lifted them by the card's fit, and where it
    still ranks them low the question is usually about something next to the card."""
    out, seen = [], set()
    for doc, article in [*first, *((a.title, a.article) for a in articles)]:
        key = (title_key(doc), article)
        if key not in seen:
            seen.add(key)
            out.append((doc, article))
    keys = {(title_key(d), a) for d, a in out[:k]}
    missing = [(d, a) for d, a in also if (title_key(d), a) not in keys]
    return out[: k - len(missing)] + missing


_SENTENCE_END = re.compile(r"(?<=[。；;！？!?])")


def _best_sentence(text: str, ranking: Ranking) -> str:
    """The sentence of the article that shares the most weighted words with the question."""
    body = re.sub(r"^第[零〇一二三四五六七八九十百千]+条(之[一二三四五六七八九十]+)?\s*", "", text)
    sentences = [s.strip() for s in _SENTENCE_END.split(body.replace("\n", "")) if s.strip()]
    if not sentences:
        return _trim(body, 90)
    words = ranking.query.words
    best = max(sentences, key=lambda s: sum(w for t, w in words.items() if t in s))
    return _trim(best, 90)


def _trim(text: str, limit: int = CITATION_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _has_words(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff\u3400-\u4dbfa-zA-Z]{2,}|[\u4e00-\u9fff]", text))


def ensure_index(settings: Settings, progress=None) -> bool:
    """Index the bundled knowledge when the data directory has no index yet; True if it did."""
    from bot.search.keyword import KeywordIndex
    from ingest.pipeline import ingest

    if KeywordIndex.exists(settings.index_dir):
        return False
    ingest(settings, [], progress=progress)
    return True


def format_answer(answer: Answer) -> str:
    """The plain-text chat reply: answer, citations, what to do. Callers escape it for HTML."""
    lines = [answer.answer]
    if answer.citations:
        lines.append(T.CITATIONS_HEADER)
        for i, c in enumerate(answer.citations, 1):
            lines.append(T.CITATION_LINE.format(n=i, doc=c.doc, article=c.article, text=c.text))
    if answer.next_steps:
        lines.append(T.NEXT_STEPS_HEADER + answer.next_steps)
    return "\n".join(lines)
