"""`lianhu fit`: fit the ranker and the refusal model on the project's own training questions.

Protocol (the dev and held-out evaluation sets are never read here):
1. Every training question goes through retrieval once; its candidate articles and their
   signals are kept (they do not depend on the weights).
2. 5-fold cross-validation by question: for each fold, the ranker, then the refusal model and
   its threshold, are fitted on the other four folds and judged on this one. The figures
   reported are those held-out judgements: what to expect on new questions of the same kind.
3. The models shipped are fitted the same way on all training questions.

The refusal threshold is the one that refuses the most out-of-scope training questions while
refusing at most FALSE_REFUSAL_BUDGET of the in-scope ones (within the fitting folds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.search.learned import (
    CARD_FEATURES,
    OPEN,
    RANK_FEATURES,
    RANKER_L2,
    REFUSAL_FEATURES,
    AnswerModel,
    Memory,
    ModeModels,
    fit_listwise,
    fit_logistic,
    fit_topic,
    sigmoid,
    topic_logits,
)
from bot.search.retriever import Candidates, Retriever, title_key
from bot.services.evaluate import load_questions

FOLDS = 5
FALSE_REFUSAL_BUDGET = 0.02
SEED = 20261124


@dataclass
class Sample:
    id: str
    style: str
    in_scope: bool
    current_figure: bool
    cands: Candidates
    keys: list[tuple[str, str]]  # (title key, article) of each candidate row
    gold: np.ndarray  # per candidate row: 1 if it is a gold article
    card_fits: list[float]
    card_x: np.ndarray | None = None  # per considered card: its signals (CARD_FEATURES)
    card_hits: np.ndarray | None = None  # per considered card: 1 if it cites a gold article
    index: int = 0  # position among the remembered training questions
    law: bool = False  # out of scope here, but a law answers it (left out of OPEN)
    memory_sims: np.ndarray | None = None


class Fold:
    """Which remembered training questions a sample may use: never itself, never the fold
    being judged. Memory signals are recomputed for each fold."""

    def __init__(self, retriever: Retriever, allowed: np.ndarray | None):
        self.retriever = retriever
        self.allowed = allowed

    def prepare(self, s: Sample) -> Sample:
        if s.memory_sims is not None:
            allowed = (
                np.ones(s.memory_sims.size, dtype=bool)
                if self.allowed is None
                else self.allowed.copy()
            )
            allowed[s.index] = False
            self.retriever.fill_memory(s.cands, s.memory_sims, allowed)
        return s


def training_files(train_dir: Path) -> list[Path]:
    """The in-scope and out-of-scope training sets (not the laws-full check)."""
    return sorted(p for p in train_dir.glob("*.jsonl") if not p.name.startswith("lawsfull"))


def remember(retriever: Retriever, questions: list[dict]) -> Memory | None:
    """The training questions as the retriever's memory (dense mode only)."""
    if retriever.mode != "dense":
        return None
    vectors = [retriever.dense.embed_query(q["question"]) for q in questions]
    return Memory(
        matrix=np.vstack(vectors).astype(np.float32),
        in_scope=np.asarray([bool(q.get("gold")) for q in questions]),
        law=np.asarray([q.get("kind") == "law" for q in questions]),
        keys=[
            {(title_key(g["doc"]), g["article"]) for g in q.get("gold") or []} for q in questions
        ],
    )


def collect(retriever: Retriever, questions: list[dict]) -> list[Sample]:
    """Candidates and signals of every training question, with the others as memory."""
    retriever.set_memory(remember(retriever, questions))
    samples = []
    for n, q in enumerate(questions):
        query = retriever.analyze(q["question"])
        qvec = retriever._query_vector(q["question"])
        cards = retriever._rank_cards(query, qvec)
        sims = retriever.memory_sims(qvec)
        allowed = None
        if sims is not None:
            allowed = np.ones(sims.size, dtype=bool)
            allowed[n] = False
        cands = retriever.candidates(query, qvec, cards, None, sims, allowed)
        keys = retriever.row_keys(cands.rows)
        gold_keys = {(title_key(g["doc"]), g["article"]) for g in q.get("gold") or []}
        samples.append(
            Sample(
                id=q.get("id", ""),
                style=q.get("style", ""),
                in_scope=bool(gold_keys),
                current_figure=query.asks_current_figure,
                cands=cands,
                keys=keys,
                gold=np.asarray([1.0 if k in gold_keys else 0.0 for k in keys]),
                card_fits=[fit for _, fit in cards],
                card_x=retriever.card_features(cards),
                card_hits=np.asarray(
                    [
                        1.0 if {(title_key(d), a) for d, a in c["citations"]} & gold_keys else 0.0
                        for c, _ in cards
                    ]
                ),
                index=n,
                law=q.get("kind") == "law",
                memory_sims=sims,
            )
        )
    return samples


def fit_mode(samples: list[Sample], mode: str, fold: Fold) -> ModeModels:
    """Ranker, then refusal model and threshold, fitted on these samples."""
    samples = [fold.prepare(s) for s in samples]
    names = RANK_FEATURES[mode]
    ranked = [s for s in samples if s.in_scope and s.gold.any()]
    x = np.vstack([s.cands.matrix(names) for s in ranked])
    y = np.concatenate([s.gold for s in ranked])
    groups = np.concatenate([np.full(len(s.gold), i) for i, s in enumerate(ranked)])
    ranker = fit_listwise(x, y, groups, names, l2=RANKER_L2)
    topic = _fit_topic(samples, mode, fold)
    judged = [s for s in samples if not s.current_figure and s.cands.rows.size]
    rows = [_question_features(s, ranker) for s in judged]
    rnames = REFUSAL_FEATURES[mode]
    rx = np.asarray([[r[f] for f in rnames] for r in rows])
    ry = np.asarray([1.0 if s.in_scope else 0.0 for s in judged])
    refusal = fit_logistic(rx, ry, rnames)
    probs = np.asarray([sigmoid(z) for z in refusal.logits(rx)])
    threshold = _threshold(probs, ry)
    card_ranker = _fit_card_ranker(samples)
    return ModeModels(
        ranker, refusal, threshold, _card_threshold(samples, card_ranker), card_ranker, topic
    )


def _fit_topic(samples: list[Sample], mode: str, fold: Fold):
    """The topic model on these samples' question vectors; each sample's `topic` signal is
    the logit of a topic model fitted on the other inner folds, as a new question would see
    it, so that the refusal model learns how far to trust it."""
    if "topic" not in REFUSAL_FEATURES[mode] or fold.retriever.memory is None:
        return None
    vectors = fold.retriever.memory.matrix[[s.index for s in samples]]
    labels = np.asarray([s.in_scope for s in samples])
    order = list(range(len(samples)))
    random.Random(SEED).shuffle(order)
    for f in range(FOLDS):
        held = np.asarray(order[f::FOLDS])
        rest = np.setdiff1d(np.arange(len(samples)), held)
        inner = fit_topic(vectors[rest], labels[rest])
        for i, z in zip(held, topic_logits(inner, vectors[held]), strict=True):
            samples[i].cands.question["topic"] = float(z)
    return fit_topic(vectors, labels)


def _fit_card_ranker(samples: list[Sample]):
    """Which considered card speaks to the question: a softmax over each question's cards,
    towards those citing a gold article."""
    usable = [
        s for s in samples if s.card_hits is not None and s.card_hits.any() and len(s.card_hits) > 1
    ]
    if not usable:
        return None
    x = np.vstack([s.card_x for s in usable])
    y = np.concatenate([s.card_hits for s in usable])
    groups = np.concatenate([np.full(len(s.card_hits), i) for i, s in enumerate(usable)])
    return fit_listwise(x, y, groups, CARD_FEATURES)


def _question_features(s: Sample, ranker) -> dict[str, float]:
    scores = ranker.logits(s.cands.matrix(ranker.features))
    return {**s.cands.question, "top_score": float(scores.max()) if scores.size else 0.0}


def _threshold(probs: np.ndarray, labels: np.ndarray) -> float:
    """The highest threshold that refuses at most the budget of in-scope questions."""
    inside = np.sort(probs[labels == 1])
    if not inside.size:
        return 0.5
    allowed = int(np.floor(FALSE_REFUSAL_BUDGET * inside.size))
    # refusing below inside[allowed] refuses exactly `allowed` in-scope questions (ties aside)
    return float(inside[allowed])


def _card_threshold(samples: list[Sample], card_ranker) -> float:
    """For installs with the cards alone (no documents): the least fit at which the leading
    card may answer, chosen like the refusal threshold — at most the budget of the questions
    the leading card does answer (its citations hold a gold article) are turned away."""
    good = []
    for s in samples:
        if not s.card_fits or not s.in_scope:
            continue
        lead = int(np.argmax(card_ranker.logits(s.card_x))) if card_ranker else 0
        if s.card_hits[lead]:
            good.append(s.card_fits[lead])
    good.sort()
    if not good:
        return 1.0
    return float(good[int(np.floor(FALSE_REFUSAL_BUDGET * len(good)))])


def judge(samples: list[Sample], models: ModeModels, fold: Fold) -> list[dict]:
    """Per question: rank of the first gold article (distinct articles, None past 10), refused."""
    out = []
    for s in samples:
        fold.prepare(s)
        if models.topic is not None:
            vector = fold.retriever.memory.matrix[s.index]
            s.cands.question["topic"] = float(topic_logits(models.topic, vector)[0])
        rank = None
        refused = s.current_figure
        if s.cands.rows.size:
            scores = models.ranker.logits(s.cands.matrix(models.ranker.features))
            order = np.argsort(-scores, kind="stable")
            seen: list[tuple[str, str]] = []
            for i in order:
                if s.keys[i] in seen:
                    continue
                seen.append(s.keys[i])
                if s.gold[i]:
                    rank = len(seen)
                    break
                if len(seen) >= 10:
                    break
            if not refused:
                q = _question_features(s, models.ranker)
                refused = sigmoid(models.refusal.logit(q)) < models.threshold
        out.append(
            {
                "id": s.id,
                "style": s.style,
                "in_scope": s.in_scope,
                "rank": rank,
                "refused": bool(refused),
            }
        )
    return out


def summarize(judged: list[dict]) -> dict:
    inside = [j for j in judged if j["in_scope"]]
    outside = [j for j in judged if not j["in_scope"]]

    def share(items, pred):
        return round(sum(1 for j in items if pred(j)) / len(items), 4) if items else 0.0

    return {
        "n_in_scope": len(inside),
        "n_out_of_scope": len(outside),
        "hit@1": share(inside, lambda j: j["rank"] == 1),
        "hit@5": share(inside, lambda j: j["rank"] is not None and j["rank"] <= 5),
        "mrr@10": round(sum(1 / j["rank"] for j in inside if j["rank"]) / len(inside), 4)
        if inside
        else 0.0,
        "refusal_rate_out_of_scope": share(outside, lambda j: j["refused"]),
        "false_refusal_rate": share(inside, lambda j: j["refused"]),
    }


def mode_samples(samples: list[Sample], mode: str) -> list[Sample]:
    """The questions a mode is fitted and judged on: OPEN leaves out those a law answers."""
    return [s for s in samples if not s.law] if mode == OPEN else samples


def memory_mask(retriever: Retriever, mode: str) -> np.ndarray | None:
    """The remembered questions a mode may read (before leaving out a fold)."""
    return retriever.memory.usable(mode) if retriever.memory is not None else None


def cross_validate(
    retriever: Retriever, samples: list[Sample], mode: str, folds: int = FOLDS
) -> tuple[dict, list[dict]]:
    samples = mode_samples(samples, mode)
    order = list(range(len(samples)))
    random.Random(SEED).shuffle(order)
    judged: list[dict] = []
    for f in range(folds):
        held = set(order[f::folds])
        allowed = memory_mask(retriever, mode)
        if allowed is not None:
            allowed[[samples[i].index for i in held]] = False
        fold = Fold(retriever, allowed)
        models = fit_mode([s for i, s in enumerate(samples) if i not in held], mode, fold)
        judged += judge([s for i, s in enumerate(samples) if i in held], models, fold)
    report = summarize(judged)
    report["by_style"] = {
        style: summarize([j for j in judged if j["style"] == style])
        for style in sorted({j["style"] for j in judged})
    }
    return report, judged


def fit(retriever: Retriever, train_dir: Path, out: Path) -> dict:
    """Cross-validate, then fit on all training questions; write the model file and, beside
    it, the remembered questions' vectors. Both modes are fitted when the semantic model is
    there: `keyword` is what answers when it is missing or fails."""
    from bot.search.memory import save_memory

    files = training_files(train_dir)
    if not files:
        raise FileNotFoundError(f"{train_dir} 里没有训练问题（*.jsonl）")
    questions = [q for f in files for q in load_questions(f)]
    model = AnswerModel.load(out) or AnswerModel({})
    model.trained_on = ", ".join(f.name for f in files)
    # what "in scope" means in these labels: the documents their gold articles are in (a fit
    # over a wider index, laws-full, still answers the other documents in OPEN)
    model.documents = tuple(
        sorted({title_key(g["doc"]) for q in questions for g in q.get("gold") or []})
    )
    dense = retriever.dense
    modes = ["dense", OPEN, "keyword"] if retriever.mode == "dense" else ["keyword"]
    reports = {}
    try:
        for mode in modes:
            retriever.dense = None if mode == "keyword" else dense
            if mode != OPEN:  # OPEN reads the dense samples
                samples = collect(retriever, questions)
            if mode == "dense":
                save_memory(
                    out.parent,
                    retriever.memory,
                    dense.embedder.name,
                    [q["question"] for q in questions],
                )
            cv, _ = cross_validate(retriever, samples, mode)
            reports[mode] = {"n": len(mode_samples(samples, mode)), "cv": cv}
            model.modes[mode] = fit_mode(
                mode_samples(samples, mode), mode, Fold(retriever, memory_mask(retriever, mode))
            )
            model.report[mode] = reports[mode]
    finally:
        retriever.dense = dense
    model.save(out)
    return reports
