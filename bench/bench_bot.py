"""Bot benchmark, printed as one JSON object:

- updates handled per second through the real Dispatcher (recording session, no network),
  for policy questions and for one-line visit logs;
- time from starting `lianhu run` to its first getUpdates against a fake Bot API on 127.0.0.1,
  and the bot process's resident memory after it has answered a question.

    python bench/bench_bot.py [--updates 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bot_support import Harness  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.ledger import members as members_db  # noqa: E402
from bot.services.answer import Answerer  # noqa: E402
from bot.services.ledger_service import LedgerService  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402


async def dispatcher_throughput(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(tmp)
        ingest(settings, [ROOT.parent / "shared" / "corpus" / "policy"])
        ledger = LedgerService.open(settings)
        volunteer = ledger.add_member("刘党员", "volunteer", "东村", "一组")
        members_db.bind_telegram(ledger.db, volunteer.id, 11)
        for i in range(50):
            ledger.add_household("东村", f"户主{i}", "一组", f"{i}号", 3, "", (), volunteer)
        h = Harness(settings, Answerer.from_settings(settings, use_llm=False), ledger)
        questions = ["家里穷，能吃低保不", "宅基地谁批", "儿子不管老人咋办", "征地补偿有哪些"]
        started = time.perf_counter()
        for i in range(n):
            await h.send(questions[i % 4], user_id=11)
        ask_rate = n / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(n):
            await h.send(f"/走访 户主{i % 50} 情况{i}", user_id=11)
        visit_rate = n / (time.perf_counter() - started)
        return {
            "updates": n,
            "questions_per_s": round(ask_rate, 1),
            "visits_per_s": round(visit_rate, 1),
        }


async def startup_and_memory() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeTelegram()
        base = await fake.start()
        env = {
            **os.environ,
            "LIANHU_BOT__TOKEN": "1:BENCH",
            "LIANHU_BOT__API_BASE": base,
            "LIANHU_DATA_DIR": tmp,
        }
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            while fake.first_get_updates is None and time.monotonic() - started < 120:
                await asyncio.sleep(0.05)
            first = fake.first_get_updates - started if fake.first_get_updates else None
            fake.push_message(5, "家里穷，能吃低保不")
            await fake.wait_for(lambda m, p: m == "sendMessage", timeout=60)
            rss = _rss_mb(process.pid)
        finally:
            process.terminate()
            await process.wait()
            await fake.stop()
        return {
            "start_to_first_getUpdates_s": round(first, 2) if first else None,
            "rss_mb": rss,
            "note": "fresh data dir: the first start also indexes the bundled cards",
        }


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=300)
    args = parser.parse_args()
    out = {
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "cores": os.cpu_count(),
    }
    out["dispatcher"] = asyncio.run(dispatcher_throughput(args.updates))
    out["process"] = asyncio.run(startup_and_memory())
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
