"""Ledger benchmark, printed as one JSON object:

- visits logged per second by 8 processes at once (through LedgerService, BEGIN IMMEDIATE,
  one transaction per visit), and how many were lost or duplicated;
- digest time over 1,000,000 visits;
- export time for 100,000 visits.

    python bench/bench_ledger.py [--visits 1000000] [--export-rows 100000] [--per-writer 500]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import load_settings
from bot.ledger import households as households_db
from bot.ledger import members as members_db
from bot.ledger.db import transaction
from bot.services.ledger_service import LedgerService


def _setup(path: Path, households: int = 2000) -> None:
    ledger = LedgerService.open(load_settings(path))
    with transaction(ledger.db):
        for v in range(3):
            members_db.insert_member(ledger.db, f"书记{v}", "village_coordinator", f"村{v}")
        vols = [
            members_db.insert_member(ledger.db, f"党员{i}", "volunteer", f"村{i % 3}", "一组")
            for i in range(30)
        ]
        for i in range(households):
            households_db.insert_household(
                ledger.db,
                f"村{i % 3}",
                f"户主{i}",
                "一组",
                f"{i}号",
                3,
                "",
                ("低保户",) if i % 7 == 0 else (),
                vols[i % 30],
            )


def _writer(args):
    path, worker, n = args
    ledger = LedgerService.open(load_settings(path))
    member = members_db.members_named(ledger.db, f"党员{worker}")[0]
    households = ledger.visible_households(member)
    started = time.perf_counter()
    for i in range(n):
        ledger.log_visit(
            member, households[i % len(households)].id, f"情况{i}", client_key=f"b:{worker}:{i}"
        )
    return time.perf_counter() - started


def bench_writers(path: Path, per_writer: int) -> dict:
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        pool.map(_writer, [(path, w, per_writer) for w in range(8)])
    elapsed = time.perf_counter() - started
    ledger = LedgerService.open(load_settings(path))
    total, distinct = ledger.db.execute(
        "SELECT count(*), count(DISTINCT client_key) FROM visits WHERE client_key LIKE 'b:%'"
    ).fetchone()
    expected = 8 * per_writer
    return {
        "writers": 8,
        "visits": expected,
        "seconds": round(elapsed, 2),
        "visits_per_s": round(expected / elapsed, 1),
        "lost": expected - distinct,
        "duplicated": total - distinct,
    }


def _bulk_visits(path: Path, n: int) -> None:
    ledger = LedgerService.open(load_settings(path))
    households = [r[0] for r in ledger.db.execute("SELECT id FROM households").fetchall()]
    members = {
        r[0]: r[1] for r in ledger.db.execute("SELECT id, volunteer_id FROM households").fetchall()
    }
    rng = random.Random(1)
    now = datetime.now(UTC)
    with transaction(ledger.db):
        batch = []
        for i in range(n):
            h = rng.choice(households)
            at = (now - timedelta(seconds=rng.randint(0, 180 * 86400))).isoformat(
                timespec="seconds"
            )
            batch.append((h, members[h], at, "入户", "走访情况", f"bulk:{i}", at))
            if len(batch) == 50_000:
                ledger.db.conn.executemany(
                    "INSERT INTO visits(household_id, member_id, visited_at, method, situation, client_key, "
                    "created_at) VALUES (?,?,?,?,?,?,?)",
                    batch,
                )
                batch = []
        if batch:
            ledger.db.conn.executemany(
                "INSERT INTO visits(household_id, member_id, visited_at, method, situation, client_key, "
                "created_at) VALUES (?,?,?,?,?,?,?)",
                batch,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--per-writer", type=int, default=500)
    args = parser.parse_args()
    out = {
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "cores": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w"
        _setup(path)
        out["concurrent_writers"] = bench_writers(path, args.per_writer)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d"
        _setup(path)
        started = time.perf_counter()
        _bulk_visits(path, args.visits)
        out["bulk_insert_s"] = round(time.perf_counter() - started, 1)
        ledger = LedgerService.open(load_settings(path))
        started = time.perf_counter()
        digest = ledger.digest()
        out["digest"] = {
            "visits_in_db": args.visits,
            "seconds": round(time.perf_counter() - started, 2),
            "week": digest.this_week.week,
            "visits_in_week": digest.this_week.visits,
        }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "e"
        _setup(path)
        _bulk_visits(path, args.export_rows)
        ledger = LedgerService.open(load_settings(path))
        started = time.perf_counter()
        written = ledger.export(Path(tmp) / "x.xlsx")
        out["export"] = {
            "rows": sum(written.values()),
            "seconds": round(time.perf_counter() - started, 1),
            "mb": round((Path(tmp) / "x.xlsx").stat().st_size / 2**20, 1),
        }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
