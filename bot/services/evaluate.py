"""`lianhu eval`: retrieval quality and refusals on labelled questions.

For each question, the ranked distinct (document, article) list behind the answer (top 10,
before trimming to what is shown), computed without an LLM. Titles compare without white
space and a leading 中华人民共和国; articles compare exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.search.retriever import title_key
from bot.services.answer import Answerer


@dataclass
class QuestionResult:
    id: str
    question: str
    in_scope: bool
    rank: int | None  # 1-based rank of the first gold article, None when absent from the top 10
    refused: bool
    latency_ms: float
    ranked: list[tuple[str, str]]
    card_id: str | None
    confidence: float


def load_questions(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path} 第 {n} 行不是合法的 JSON：{exc}") from exc
    return rows


def evaluate(answerer: Answerer, questions: list[dict]) -> tuple[dict, list[QuestionResult]]:
    results = []
    for q in questions:
        gold = {(title_key(g["doc"]), g["article"]) for g in q.get("gold") or []}
        answer = answerer.answer(q["question"])
        ranked = answer.ranked[:10]
        rank = next((i + 1 for i, (d, a) in enumerate(ranked) if (title_key(d), a) in gold), None)
        results.append(
            QuestionResult(
                id=q.get("id", ""),
                question=q["question"],
                in_scope=bool(gold),
                rank=rank,
                refused=answer.refused,
                latency_ms=answer.elapsed_ms,
                ranked=ranked,
                card_id=answer.card_id,
                confidence=round(answer.confidence, 4),
            )
        )
    return summarize(results), results


def summarize(results: list[QuestionResult]) -> dict:
    inside = [r for r in results if r.in_scope]
    outside = [r for r in results if not r.in_scope]
    latencies = [r.latency_ms for r in results] or [0.0]

    def share(items, pred):
        return round(sum(1 for r in items if pred(r)) / len(items), 4) if items else 0.0

    return {
        "n_in_scope": len(inside),
        "n_out_of_scope": len(outside),
        "hit@1": share(inside, lambda r: r.rank == 1),
        "hit@5": share(inside, lambda r: r.rank is not None and r.rank <= 5),
        "mrr@10": round(sum(1 / r.rank for r in inside if r.rank) / len(inside), 4)
        if inside
        else 0.0,
        "refusal_rate_out_of_scope": share(outside, lambda r: r.refused),
        "false_refusal_rate": share(inside, lambda r: r.refused),
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2),
            "p95": round(float(np.percentile(latencies, 95)), 2),
        },
    }
