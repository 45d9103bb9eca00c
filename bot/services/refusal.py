"""When to say "no basis found": a small logistic model over retrieval signals.

The signals (see Retriever._features) say how much of the question the corpus covers at all:
how well the best article fits the question's words and character pairs, the share of the
question's words the corpus never uses, and whether it asks for this year's figure (which no
law states). The weights are fitted on labelled questions by `lianhu calibrate` and kept in
knowledge/refusal_model.json; `[retrieval] min_confidence` is the threshold on its output.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = ("word_fit", "bigram_fit", "doc_fit", "coverage", "oov_share", "foreign_words")


@dataclass(frozen=True)
class RefusalModel:
    weights: tuple[float, ...]
    bias: float
    trained_on: str = ""

    def confidence(self, features: dict[str, float]) -> float:
        """Probability that the corpus can answer the question (0..1)."""
        z = self.bias + sum(
            w * min(features.get(f, 0.0), 3.0) for w, f in zip(self.weights, FEATURES, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {
                    "features": FEATURES,
                    "weights": self.weights,
                    "bias": self.bias,
                    "trained_on": self.trained_on,
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )

    @classmethod
    def load(cls, path: Path) -> RefusalModel:
        if not path.is_file():
            return DEFAULT_MODEL
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data.get("features", ())) != FEATURES:
            return DEFAULT_MODEL  # written for other signals: do not misread its weights
        return cls(tuple(data["weights"]), float(data["bias"]), data.get("trained_on", ""))


# Used only when knowledge/refusal_model.json is missing: answer when the best article
# covers most of the question's words.
DEFAULT_MODEL = RefusalModel(weights=(2.0, 1.0, 1.0, 1.0, -2.0, -1.0), bias=-2.0)


def fit(
    rows: list[dict[str, float]], labels: list[int], l2: float = 0.1, steps: int = 4000
) -> RefusalModel:
    """Logistic regression by gradient descent, classes weighted equally (few out-of-scope
    questions must count as much as many in-scope ones)."""
    x = np.array([[min(r.get(f, 0.0), 3.0) for f in FEATURES] for r in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    pos = max(y.sum(), 1.0)
    neg = max(len(y) - y.sum(), 1.0)
    sample_w = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) * sample_w
        w -= 0.5 * (x.T @ g / len(y) + l2 * w)
        b -= 0.5 * g.mean()
    return RefusalModel(tuple(round(float(v), 4) for v in w), round(float(b), 4))
