"""Scheduler bookkeeping: which run finished for which period, which chat got which message,
and chats that blocked the bot."""

from __future__ import annotations

from bot.ledger.db import now_utc


def delivered(db, job: str, period: str, chat_id: int) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM deliveries WHERE job=? AND period=? AND chat_id=?",
            [job, period, chat_id],
        ).fetchone()
    )


def record_delivery(db, job: str, period: str, chat_id: int) -> None:
    db.execute(
        "INSERT OR IGNORE INTO deliveries VALUES (?,?,?,?)", [job, period, chat_id, now_utc()]
    )


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
    db.execute("INSERT OR IGNORE INTO blocked_chats VALUES (?, ?)", [chat_id, now_utc()])


def is_blocked(db, chat_id: int) -> bool:
    return bool(db.execute("SELECT 1 FROM blocked_chats WHERE chat_id=?", [chat_id]).fetchone())
