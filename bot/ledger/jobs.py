"""Scheduler bookkeeping: which run finished for which period, which chat got which message,
and chats that blocked the bot. Deliveries and blocked addresses are kept per channel in
`identities` (migration m003); the chat-id functions here are the Telegram case of those."""

from __future__ import annotations

from bot.ledger import identities
from bot.ledger.db import now_utc


def delivered(db, job: str, period: str, chat_id: int) -> bool:
    return identities.delivered(db, job, period, "telegram", str(chat_id))


def record_delivery(db, job: str, period: str, chat_id: int) -> None:
    identities.record_delivery(db, job, period, "telegram", str(chat_id))


def run_finished(db, job: str, period: str) -> bool:
    row = db.execute(
        "SELECT finished_at FROM job_runs WHERE job=? AND period=?", [job, period]
    ).fetchone()
    return bool(row and row[0])


def record_run(db, job: str, period: str, finished: bool, sent: int = 0) -> None:
    db.execute(
        "INSERT INTO job_runs(job, period, started_at, finished_at, sent) VALUES (?,?,?,?,?) "
        "ON CONFLICT(job, period) DO UPDATE SET finished_at=excluded.finished_at, sent=excluded.sent",
        [job, period, now_utc(), now_utc() if finished else "", sent],
    )


def block_chat(db, chat_id: int) -> None:
    identities.block(db, "telegram", str(chat_id))


def is_blocked(db, chat_id: int) -> bool:
    return identities.is_blocked(db, "telegram", str(chat_id))
