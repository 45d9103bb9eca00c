"""Opening the ledger database: WAL, a busy timeout, foreign keys, numbered migrations, and
`BEGIN IMMEDIATE` transactions for every read-then-write (deferred ones fail under concurrent
writers, see ../shared/STACK.md)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from bot.ledger.schema import MIGRATIONS


def connect(path: Path) -> sqlite_utils.Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    db = sqlite_utils.Database(conn)
    migrate(db)
    return db


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction; return their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    done = []
    for name, statements in MIGRATIONS:
        if name in applied:
            continue
        with transaction(db):
            if db.execute("SELECT 1 FROM _migrations WHERE name=?", [name]).fetchone():
                continue  # another process applied it while we waited for the lock
            for statement in statements:
                db.execute(statement)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", [name, now_utc()])
        done.append(name)
    return done


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
