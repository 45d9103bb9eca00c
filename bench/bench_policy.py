"""Policy-answer benchmark: retrieval quality, refusals and latency, printed as one JSON object.

    python bench/bench_policy.py --data-dir D            # an index already ingested in D
    python bench/bench_policy.py --data-dir D --check train/lawsfull_check.jsonl

For the index in D (ingest it first: `lianhu ingest ../shared/corpus/policy --data-dir D`), on
the questions file (default: the dev set, which is validation only — nothing is fitted here):
- `answers`: what `lianhu eval` reports (the shipped configuration: fitted ranker and refusal);
- `keyword_alone`, `dense_alone`, `fused`: ranking quality of keyword signals alone (the
  keyword-mode ranker), of the semantic model's cosine alone, and of the fitted fusion;
- `plain_bm25`: jieba BM25 over articles with the question as typed, for reference;
- `cv`: the cross-validated figures on the training questions stored with the model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _ranks(questions, rank_fn) -> dict:
    from bot.search.retriever import title_key

    ranks = []
    for q in questions:
        gold = {(title_key(g["doc"]), g["article"]) for g in q["gold"]}
        ranked = rank_fn(q["question"])[:10]
        ranks.append(next((i + 1 for i, key in enumerate(ranked) if key in gold), None))
    n = len(ranks) or 1
    return {
        "n": len(ranks),
        "hit@1": round(sum(r == 1 for r in ranks) / n, 4),
        "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
    }


def _distinct_keys(retriever, rows) -> list[tuple[str, str]]:
    out = []
    for key in retriever.row_keys(np.asarray(rows[:40])):
        if key not in out:
            out.append(key)
    return out


def rankers(retriever):
    """Each ranking alone, as a function question → distinct (title key, article) list."""
    from bot.search.retriever import title_key
    from bot.search.tokenize import tokens

    def fused(question):
        return [(title_key(a.title), a.article) for a in retriever.search(question).articles]

    def keyword_alone(question):
        dense, retriever.dense = retriever.dense, None
        try:
            return fused(question)
        finally:
            retriever.dense = dense

    def dense_alone(question):
        scores = np.nan_to_num(
            retriever.dense.article_scores(retriever.dense.embed_query(question)), nan=-1
        )
        return _distinct_keys(retriever, np.argsort(-scores))

    def plain_bm25(question):
        scores = retriever.keyword.art_words.scores({t: 1.0 for t in tokens(question)})
        return _distinct_keys(retriever, np.argsort(-scores))

    out = {"keyword_alone": keyword_alone, "plain_bm25": plain_bm25}
    if retriever.mode == "dense":
        out.update(dense_alone=dense_alone, fused=fused)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=SHARED / "eval" / "dev_questions.jsonl")
    parser.add_argument(
        "--check", type=Path, help="only ranking, e.g. train/lawsfull_check.jsonl (no refusal)"
    )
    args = parser.parse_args()
    from bot.config import load_settings
    from bot.services.answer import Answerer
    from bot.services.evaluate import evaluate, load_questions

    settings = load_settings(args.data_dir)
    started = time.perf_counter()
    answerer = Answerer.from_settings(settings, use_llm=False)
    load_s = time.perf_counter() - started
    retriever = answerer.retriever
    out = {
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "documents": len(retriever.keyword.doc_titles),
        "article_rows": int(retriever.keyword.art_words.n_units),
        "mode": retriever.mode,
        "answer_mode": retriever.answer_mode,
        "load_s": round(load_s, 2),
    }
    questions = load_questions(args.check or args.questions)
    if not args.check:
        summary, _ = evaluate(answerer, questions)
        out["answers"] = summary
        out["cv"] = (retriever.model.report if retriever.model else {}) or {}
    inside = [q for q in questions if q.get("gold")]
    for name, rank_fn in rankers(retriever).items():
        out[name] = _ranks(inside, rank_fn)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
