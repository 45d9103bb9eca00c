"""Answering a policy question: retrieval → refusal check → card or extractive answer → reply.

The path is short on purpose:
    Answerer.answer(question)
      → Retriever.search (keyword + semantic signals, fitted ranker)
      → the fitted refusal model: below its threshold, an honest "no basis found"
      → a card citing the best article leads with its plain-language answer, else the best
        article's sentence closest in meaning to the question
      → at most 3 citations, each an article that retrieval or the card returned.
Cards never skip the refusal check. An optional LLM may only rewrite the short answer from the
cited articles (see llm.py).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.search.learned import sigmoid
from bot.search.places import Places
from bot.search.retriever import RankedArticle, Ranking, Retriever, title_key
from bot.services import answer_texts as T
from bot.services.answer_types import Answer, Citation
from bot.services.local_standards import local_note

log = logging.getLogger(__name__)

MAX_CITATIONS = 3
CITATION_CHARS = 160


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
        if retriever.model is None:
            log.warning(
                "没有拟合好的回答模型（answer_model.json），拒答只看关键词覆盖；运行 lianhu fit"
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

    # -- deciding ------------------------------------------------------------------------------
    def _models(self, ranking: Ranking):
        model = self.retriever.model
        if model is None:
            return None
        # with no documents, what matters is how the cards were matched
        return model.mode(ranking.mode if ranking.articles else ranking.card_mode)

    def _confidence(self, ranking: Ranking) -> tuple[float, float]:
        """(probability that the indexed documents answer the question, threshold below which
        Lianhu refuses). With the cards alone, the best card's fit and the cards' threshold."""
        models = self._models(ranking)
        override = self.settings.retrieval.min_confidence
        if not ranking.articles:
            fit = ranking.cards[0][1] if ranking.cards else 0.0
            return fit, models.card_threshold if models else 1.0
        if models is None:
            # unfitted install: answer only when the best article covers the question's words
            return ranking.features.get("coverage", 0.0), 0.5
        p = sigmoid(models.refusal.logit(ranking.features))
        return p, models.threshold if override is None else override

    def _leading_card(self, ranking: Ranking) -> dict | None:
        """The best-fitting card that cites the best article (any card, with the cards alone),
        if it fits at least as well as the cards' threshold. (Letting a card that cites any of
        the top three lead made the first citation shown right less often on the training
        questions: hit@1 0.58 against 0.66.) A card resting only on another province's
        regulation never leads: its answer is that province's rule, not this family's."""
        models = self._models(ranking)
        floor = models.card_threshold if models else 1.0
        best = ranking.articles[0] if ranking.articles else None
        for card, fit in ranking.cards:
            if fit < floor:
                break
            if all(Places.foreign(doc, ranking.provinces) for doc, _ in card["citations"]):
                continue
            cited = {(title_key(d), a) for d, a in card["citations"]}
            if best is None or (title_key(best.title), best.article) in cited:
                return card
        return None

    # -- composing -----------------------------------------------------------------------------
    def _compose(self, question: str, ranking: Ranking, region: str | None) -> Answer:
        confidence, threshold = self._confidence(ranking)
        result = Answer(
            question=question,
            answer="",
            refused=False,
            ranked=[(a.title, a.article) for a in ranking.articles],
            confidence=confidence,
        )
        office = self._office(ranking.query.norm, "")
        if ranking.query.asks_current_figure:
            # this year's amounts are set locally every year; no article states them
            note = local_note(self.settings.knowledge_dir, question, region)
            result.refused = True
            result.answer = T.FIGURE_IS_LOCAL
            result.next_steps = note or T.ASK_OFFICE.format(office=office)
            return result
        card = self._leading_card(ranking) if confidence >= threshold else None
        if confidence < threshold or (not ranking.articles and card is None):
            result.refused = True
            result.answer = T.NO_BASIS
            result.next_steps = T.ASK_OFFICE.format(office=office)
            return result
        if card is not None:
            result.card_id = card["id"]
            result.answer = card["answer"]
            result.next_steps = card["next_steps"]
            result.citations = self._card_citations(card, ranking)
            # what is shown first is what the answer rests on
            shown = [(c.doc, c.article) for c in result.citations]
            keys = {(title_key(d), a) for d, a in shown}
            rest = [r for r in result.ranked if (title_key(r[0]), r[1]) not in keys]
            result.ranked = (shown + rest)[: max(len(shown), self.settings.retrieval.top_k)]
        else:
            top = ranking.articles[0]
            result.citations = self._article_citations(ranking.articles)
            result.answer = T.EXTRACTIVE.format(
                doc=top.title, article=top.article, sentence=self._best_sentence(top, ranking)
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

    def _card_citations(self, card: dict, ranking: Ranking) -> list[Citation]:
        """The card's citations that retrieval returned, in its order (the best article leads),
        at most three; with the cards alone (no documents indexed), the card's own, another
        province's regulations after the rest."""
        rank = {(title_key(a.title), a.article): i for i, a in enumerate(ranking.articles)}
        scores = {(title_key(a.title), a.article): a.score for a in ranking.articles}
        refs = [tuple(c) for c in card["citations"]]
        if rank:
            refs = sorted(
                (c for c in refs if (title_key(c[0]), c[1]) in rank),
                key=lambda c: rank[(title_key(c[0]), c[1])],
            )
        else:
            refs.sort(key=lambda c: Places.foreign(c[0], ranking.provinces))
        out = []
        for doc, article in refs[:MAX_CITATIONS]:
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
        """The best article and those ranked as nearly as likely: within a factor e of it
        under the ranker's softmax (a log-odds gap of at most 1)."""
        best = articles[0].score
        shown = [a for a in articles[:MAX_CITATIONS] if best - a.score <= 1.0]
        return [Citation(a.title, a.article, _trim(a.text), round(a.score, 4)) for a in shown]

    def _best_sentence(self, article: RankedArticle, ranking: Ranking) -> str:
        """The article's sentence closest in meaning to the question (its stored sentence
        vectors), or, without the semantic model, the one sharing the most question words."""
        from ingest.embedding import article_sentences

        sentences = article_sentences(article.text)
        if not sentences:
            return _trim(article.text, 90)
        scores = self.retriever.sentence_scores(ranking.query_vector, article.unit_id)
        if scores is not None and len(scores) == len(sentences):
            return _trim(sentences[int(np.argmax(scores))], 90)
        words = ranking.query.words
        return _trim(max(sentences, key=lambda s: sum(w for t, w in words.items() if t in s)), 90)

    def _office(self, question_norm: str, title: str) -> str:
        for office in self.offices:
            if any(w in question_norm or w in title for w in office.words):
                return office.name
        return T.DEFAULT_OFFICE


def _trim(text: str, limit: int = CITATION_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _has_words(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff\u3400-\u4dbfa-zA-Z]{2,}|[\u4e00-\u9fff]", text))


def ensure_index(settings: Settings, progress=None) -> bool:
    """Index the bundled knowledge when the data directory has no index yet; True if it did.
    When another process is building that first index there is nothing to answer from yet:
    stop with a message saying so (callers are commands and the bot's start)."""
    from bot.search.keyword import KeywordIndex
    from ingest.generations import IngestBusy
    from ingest.pipeline import ingest

    if KeywordIndex.exists(settings.index_dir):
        return False
    try:
        ingest(settings, [], progress=progress)
    except IngestBusy as exc:
        raise SystemExit(
            f"{settings.index_dir} 还没有索引，另一个导入正在建立它；请等那个导入结束后再运行。"
        ) from exc
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
