"""`lianhu calibrate`: fit the refusal model on labelled questions and say how it generalizes.

Leave-one-out: each question is judged by a model fitted without it, so the reported rates
are what to expect on new questions of the same kind, not the fit to these ones.
"""

from __future__ import annotations

from pathlib import Path

from bot.search.retriever import Retriever
from bot.services.evaluate import load_questions
from bot.services.refusal import FEATURES, fit


def calibrate(retriever: Retriever, questions_file: Path, out: Path, threshold: float) -> dict:
    questions = load_questions(questions_file)
    rows, labels = [], []
    for q in questions:
        ranking = retriever.search(q["question"])
        if ranking.query.asks_current_figure:
            continue  # answered by the figure rule, not the model
        rows.append(ranking.features)
        labels.append(1 if q.get("gold") else 0)
    model = fit(rows, labels)
    model = type(model)(
        model.weights, model.bias, trained_on=f"{questions_file.name} ({len(rows)} 题)"
    )
    model.save(out)
    loo = []
    for i in range(len(rows)):
        held_out = fit(rows[:i] + rows[i + 1 :], labels[:i] + labels[i + 1 :])
        loo.append(held_out.confidence(rows[i]) >= threshold)
    inside = [a for a, y in zip(loo, labels, strict=True) if y == 1]
    outside = [a for a, y in zip(loo, labels, strict=True) if y == 0]
    return {
        "model": str(out),
        "features": FEATURES,
        "weights": model.weights,
        "bias": model.bias,
        "n": len(rows),
        "loo_false_refusal_rate": round(1 - sum(inside) / len(inside), 4) if inside else None,
        "loo_refusal_rate_out_of_scope": round(1 - sum(outside) / len(outside), 4)
        if outside
        else None,
    }
