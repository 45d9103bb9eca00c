"""The fitted parts of answering: a linear ranker over candidate articles, a refusal model, and
the topic model whose logit is one of the refusal model's signals.

All are linear models over named signals (the ranker also over their products; the topic model
over the question's e5 vector), fitted by
`lianhu fit` on the project's own training questions (train/*.jsonl) and nowhere else;
knowledge/answer_model.json keeps the weights, the refusal threshold and the cross-validated
figures they were chosen by. One model set exists per mode: `dense` (the semantic model is
loaded) and `keyword` (it is not).

No weight or threshold in here is picked by hand: the only constants are the regularization
strength and the false-refusal budget the threshold is chosen for, both stated with the fit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

# Per candidate article. kw_* are keyword (BM25) scores scaled to the question's best; dense_*
# are cosine similarities under the semantic model; card_* say how well the cards citing the
# article fit the question.
RANK_SIGNALS = {
    "keyword": (
        "kw_words",
        "kw_expansions",
        "kw_bigrams",
        "kw_doc",
        "kw_rr",
        "card_kw",
        "card_kw_best",
        "other_region",
        "own_region",
    ),
    "dense": (
        "kw_words",
        "kw_expansions",
        "kw_bigrams",
        "kw_doc",
        "kw_rr",
        "dense",
        "dense_gap",
        "dense_doc_gap",
        "dense_rr",
        "dense_sentence",
        "dense_sentence_gap",
        "card_sim",
        "card_sim_gap",
        "card_kw",
        "other_region",
        "own_region",
    ),
}

# With the semantic model, over an index holding documents the model was not fitted with
# (laws-full beside the policy set). A divorce question is out of scope for the policy set, but
# 民法典 answers it once it is indexed: this set is fitted without the out-of-scope training
# questions that some law answers (`"kind": "law"` in train/), and answering in it never
# remembers them, so it refuses what no law answers (weather, recipes, an office's phone number)
# and leaves the rest to how well the index itself fits the question.
OPEN = "dense_open"
RANK_SIGNALS[OPEN] = RANK_SIGNALS["dense"]

# The ranker reads each signal and the product of every two: whether a card's words matter
# depends on how close the meaning is, a keyword hit on a regulation of another province
# counts for less, and so on. 5-fold cross-validation on the training questions (2026-11-24):
# MRR@10 0.797 with the signals alone, 0.835 with their products (hit@1 0.700 → 0.755).
RANK_FEATURES = {
    mode: names + tuple(f"{a}*{b}" for a, b in combinations(names, 2))
    for mode, names in RANK_SIGNALS.items()
}
# L2 strength of the ranker with that many products, chosen by 5-fold cross-validated MRR@10 on
# the training questions. With 1,094 questions 0.01 was best of 0.001/0.01/0.03 (0.8307, 0.8346,
# 0.8324); with 1,483 (2026-11-25) 0.03 is best of 0.003/0.01/0.03/0.1 (0.8503, 0.8498, 0.8533,
# 0.8503): more questions, more of each product's noise to hold back.
RANKER_L2 = 3e-2

# Per card considered for a question: which card speaks to it (its citations hold the answer)?
CARD_FEATURES = ("card_sim", "card_sim_gap", "card_kw")

# Per question: can the corpus answer it at all? Both modes read the lexical signals; with the
# semantic model also the best cosines with an article, a card and a remembered question.
_LEXICAL_REFUSAL = (
    "word_fit",
    "bigram_fit",
    "coverage",
    "oov_share",
    "foreign_words",
    "asks_detail",
    "top_score",
)
REFUSAL_FEATURES = {
    "keyword": _LEXICAL_REFUSAL,
    "dense": (
        "dense_max",
        "card_sim_max",
        "mem_in_max",
        "mem_out_max",
        "topic",
        *_LEXICAL_REFUSAL,
    ),
}
REFUSAL_FEATURES[OPEN] = REFUSAL_FEATURES["dense"]

# `topic`: a logistic model over the question's e5 vector itself, fitted on the training
# questions (in scope or not). The nearest remembered question says how close one example is;
# this reads the direction of the whole vector, so divorce, inheritance or recipes count against
# answering however their words overlap the documents'. Its logit is a refusal signal, cross-fitted
# within the fitting questions so the refusal model never sees it on questions it was fitted on.
# 5-fold CV on 2,022 training questions (2026-11-25), refusal model with the topic logit:
# out-of-scope refused 0.948 / 0.966 / 0.971 at false refusal 0.010 / 0.015 / 0.021, against
# 0.923 / 0.946 / 0.960 at 0.010 / 0.017 / 0.018 without it. Its L2, 0.03, was the best of
# 0.003 / 0.03 / 0.3 (refused 0.969 / 0.971 / 0.969 at the 2% budget).
TOPIC_L2 = 3e-2


@dataclass
class LinearModel:
    """w·standardize(x) + b over named features."""

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def logits(self, x: np.ndarray) -> np.ndarray:
        """A signal that cannot be observed here (NaN: no cards installed, no remembered
        questions) counts as its training mean, i.e. neither for nor against."""
        z = np.nan_to_num((x - self.mean) / self.scale, nan=0.0)
        return z @ self.weights + self.bias

    def logit(self, values: dict[str, float]) -> float:
        x = np.asarray([values.get(f, 0.0) for f in self.features], dtype=np.float64)
        return float(self.logits(x[None, :])[0])

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(self.bias, 6),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
        }

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        return cls(
            tuple(data["features"]),
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
        )


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    features: tuple[str, ...],
    groups: np.ndarray | None = None,
    l2: float = 1e-2,
    steps: int = 600,
) -> LinearModel:
    """Logistic regression by Newton steps with L2. Positives and negatives weigh the same in
    total; with `groups` (one id per question) every question weighs the same, so a question
    with many candidates does not dominate."""
    z, mean, scale = _standardize(x)
    sample_w = np.ones(len(y))
    if groups is not None:
        _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
        sample_w = 1.0 / counts[inverse]
    pos, neg = sample_w[y == 1].sum(), sample_w[y == 0].sum()
    sample_w = np.where(y == 1, sample_w / max(pos, 1e-9), sample_w / max(neg, 1e-9))
    sample_w *= len(y) / sample_w.sum()
    a = np.hstack([z, np.ones((len(y), 1))])
    theta = np.zeros(a.shape[1])
    reg = np.full(a.shape[1], l2 * len(y))
    reg[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(a @ theta, -30, 30)))
        grad = a.T @ ((p - y) * sample_w) + reg * theta
        hess = (a * (p * (1 - p) * sample_w)[:, None]).T @ a + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return LinearModel(features, theta[:-1], float(theta[-1]), mean, scale)


@dataclass
class ModeModels:
    ranker: LinearModel
    refusal: LinearModel
    threshold: float  # on the refusal model's probability: below it, no basis found
    card_threshold: float = 0.0  # least fit (0..1) at which a card may lead
    card_ranker: LinearModel | None = None  # orders the cards considered
    topic: LinearModel | None = None  # over the question vector: the `topic` refusal signal


@dataclass
class AnswerModel:
    modes: dict[str, ModeModels]
    trained_on: str = ""
    report: dict = field(default_factory=dict)
    # modes in the file that were written for other signals and not read (see `load`)
    outdated: tuple[str, ...] = ()
    # title keys of the documents the training labels speak of (their gold articles' documents):
    # an index holding others is answered in the OPEN mode
    documents: tuple[str, ...] = ()

    def mode(self, name: str) -> ModeModels | None:
        return self.modes.get(name)

    def save(self, path: Path) -> None:
        data = {
            "trained_on": self.trained_on,
            "documents": list(self.documents),
            "modes": {
                name: {
                    "ranker": m.ranker.to_json(),
                    "refusal": m.refusal.to_json(),
                    "threshold": round(m.threshold, 6),
                    "card_threshold": round(m.card_threshold, 6),
                    "card_ranker": m.card_ranker.to_json() if m.card_ranker else None,
                    "topic": m.topic.to_json() if m.topic else None,
                }
                for name, m in self.modes.items()
            },
            "report": self.report,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> AnswerModel | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        modes, outdated = {}, []
        for name, m in data.get("modes", {}).items():
            ranker = LinearModel.from_json(m["ranker"])
            refusal = LinearModel.from_json(m["refusal"])
            if ranker.features != RANK_FEATURES.get(
                name
            ) or refusal.features != REFUSAL_FEATURES.get(name):
                outdated.append(name)  # written for other signals: do not misread its weights
                continue
            modes[name] = ModeModels(
                ranker,
                refusal,
                float(m["threshold"]),
                float(m.get("card_threshold", 0.0)),
                LinearModel.from_json(m["card_ranker"]) if m.get("card_ranker") else None,
                LinearModel.from_json(m["topic"]) if m.get("topic") else None,
            )
        return cls(
            modes,
            data.get("trained_on", ""),
            data.get("report", {}),
            tuple(outdated),
            tuple(data.get("documents", ())),
        )


def fit_topic(vectors: np.ndarray, in_scope: np.ndarray, l2: float = TOPIC_L2) -> LinearModel:
    """In scope or not, from the question vector alone (one weight per dimension)."""
    names = tuple(f"e{i}" for i in range(vectors.shape[1]))
    return fit_logistic(vectors.astype(np.float64), in_scope.astype(np.float64), names, l2=l2)


def topic_logits(topic: LinearModel, vectors: np.ndarray) -> np.ndarray:
    return topic.logits(np.atleast_2d(vectors).astype(np.float64))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass
class Memory:
    """Training questions kept for answering: their vectors, whether each is in scope, and the
    (title key, article) pairs each was labelled with. A new question close to a remembered one
    is likely answered by the same articles (or, close to an out-of-scope one, by none)."""

    matrix: np.ndarray
    in_scope: np.ndarray
    keys: list[set[tuple[str, str]]]
    # out of scope for the fitted documents, but a law answers it: never remembered in OPEN
    law: np.ndarray | None = None

    def usable(self, mode: str) -> np.ndarray:
        """Which remembered questions answering in this mode may read."""
        if mode == OPEN and self.law is not None:
            return ~self.law
        return np.ones(len(self.in_scope), dtype=bool)


def fit_listwise(
    x: np.ndarray,
    gold: np.ndarray,
    groups: np.ndarray,
    features: tuple[str, ...],
    l2: float = 1e-3,
    steps: int = 1500,
) -> LinearModel:
    """A ranker fitted for what it is used for: per question, a softmax over its candidates,
    maximizing the probability of its gold articles (ListNet-style), with L2; full-batch Adam."""
    z, mean, scale = _standardize(x)
    _, group = np.unique(groups, return_inverse=True)
    n_groups = group.max() + 1
    w = np.zeros(z.shape[1])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        s = z @ w
        s = s - np.maximum.reduceat(s, _starts(group)).repeat(np.bincount(group))
        e = np.exp(s)
        p = e / np.bincount(group, e)[group]
        # target: gold candidates share the question's probability mass
        q = gold / np.bincount(group, gold)[group]
        grad = z.T @ (p - q) / n_groups + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return LinearModel(features, w, 0.0, mean, scale)


def _standardize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centred and scaled columns; a signal never observed in the data (NaN: no cards, say)
    gets mean 0 and scale 1 and contributes nothing."""
    with np.errstate(all="ignore"):
        observed = ~np.isnan(x).all(axis=0)
        mean = np.zeros(x.shape[1])
        scale = np.ones(x.shape[1])
        mean[observed] = np.nanmean(x[:, observed], axis=0)
        spread = np.nanstd(x[:, observed], axis=0)
        scale[observed] = np.where(spread < 1e-9, 1.0, spread)
    return np.nan_to_num((x - mean) / scale, nan=0.0), mean, scale


def _starts(group: np.ndarray) -> np.ndarray:
    """Start index of each run of equal group ids (groups are contiguous)."""
    return np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
