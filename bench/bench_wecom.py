"""WeCom channel benchmark, printed as one JSON object. Everything over the real long connection
(aiohttp WebSocket on 127.0.0.1) to the fake WeCom server, through the real Dispatcher and ledger:

- one-line visit logs and policy questions: messages per second with `--users` people typing at
  once, and the latency from a callback sent to its reply received (p50 / p95, ms);
- the time from a dropped connection to the next authenticated one (first backoff is 1 s).

    python bench/bench_wecom.py [--messages 300] [--users 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fake_wecom import FakeWeCom  # noqa: E402

from bot.app import build_dispatcher  # noqa: E402
from bot.channels.wecom.runner import start_wecom  # noqa: E402
from bot.config import WeComSettings, load_settings  # noqa: E402
from bot.ledger import identities  # noqa: E402
from bot.services.answer import Answerer  # noqa: E402
from bot.services.ledger_service import LedgerService  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402


async def _replied(fake: FakeWeCom, req_ids: set[str]) -> float:
    """Wait until every callback in req_ids has its reply; the time of the last one."""
    while True:
        answered = {f["headers"]["req_id"] for f in fake.frames if f["cmd"] == "aibot_respond_msg"}
        if req_ids <= answered:
            return time.perf_counter()
        await asyncio.sleep(0.002)


async def _run(fake: FakeWeCom, users: list[str], texts: list[str]) -> dict:
    latencies: list[float] = []

    async def one_user(userid: str, own: list[str]) -> None:
        for text in own:
            start = time.perf_counter()
            msgid = await fake.say(userid, text)
            req_id = next(r for r, c in fake.callbacks.items() if c["body"]["msgid"] == msgid)
            latencies.append(await _replied(fake, {req_id}) - start)

    started = time.perf_counter()
    await asyncio.gather(*(one_user(u, texts[i :: len(users)]) for i, u in enumerate(users)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "messages": len(texts),
        "per_s": round(len(texts) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
    }


async def main(messages: int, users: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(tmp)
        ingest(settings, [])
        ledger = LedgerService.open(settings)
        people = [f"user{i}" for i in range(users)]
        for i, userid in enumerate(people):
            member = ledger.add_member(f"党员{i}", "volunteer", "东村", "一组")
            identities.bind(ledger.db, member.id, "wecom", userid)
            for j in range(5):
                ledger.add_household("东村", f"户{i}x{j}", "一组", "", 1, "", (), member)
        fake = FakeWeCom()
        url = await fake.start()
        settings = settings.model_copy(
            update={"wecom": WeComSettings(bot_id=fake.bot_id, secret=fake.secret, ws_url=url)}
        )
        dp = build_dispatcher(settings, Answerer.from_settings(settings, use_llm=False), ledger)
        channel = start_wecom(settings, dp, ledger)
        await fake.wait_connected()
        visits = [f"/走访 户{i % users}x{i % 5} 情况{i}" for i in range(messages)]
        questions = ["家里穷，能吃低保不", "宅基地谁批", "儿子不管老人咋办", "征地补偿有哪些"]
        result = {
            "users_at_once": users,
            "visit_logs": await _run(fake, people, visits),
            "questions": await _run(fake, people, [questions[i % 4] for i in range(messages)]),
        }
        dropped = time.perf_counter()
        await fake.drop()
        await fake.wait_connected()
        result["reconnect_s"] = round(time.perf_counter() - dropped, 2)
        stored = ledger.db.execute("SELECT count(*) FROM visits").fetchone()[0]
        result["visits_stored"] = stored
        result["protocol_errors"] = len(fake.errors)
        await channel.stop()
        await fake.stop()
        return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.messages, args.users)), ensure_ascii=False))
