"""Opening the ledger database: WAL, a busy timeout, foreign keys, numbered migrations, and
`BEGIN IMMEDIATE` transactions for every read-then-write (deferred ones fail under concurrent
writers, see ../shared/STACK.md).

A ledger that lost its data must never be taken for a new, empty one: a new ledger is built in a
side file and linked into place complete, so `ledger.db` never exists without its schema, and a
`ledger.db` found empty (zero bytes) or without the ledger's tables is refused with a message
pointing to the backup. A damaged file (SQLite reports it malformed, or `PRAGMA quick_check`
fails at open) stops every write on that connection instead of writing on over the damage.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import sqlite_utils

from bot.ledger.schema import MIGRATIONS

RESTORE = (
    "恢复办法（README“Backup and restore”）：停止机器人，把 lianhu backup 做的备份复制为这个文件"
)
GONE = (
    "台账数据库 {path} {what}，原来的台账数据不在了；为免当成新台账接着写，已停止。"
    + RESTORE
    + "。"
)
DAMAGED = "台账数据库 {path} 已损坏（{detail}），为免写坏更多数据，已停止写入。" + RESTORE + "。"
# SQLite primary result codes for a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB
CORRUPTION_CODES = (11, 26)


class LedgerUnavailable(Exception):
    """The ledger cannot be used safely; the message (Chinese) says what happened and what to do."""


class LedgerDatabase(sqlite_utils.Database):
    """A sqlite-utils Database that stops writing once SQLite reports the file damaged."""

    path: Path
    damaged: str = ""

    def execute(self, sql: str, parameters=None):
        if self.damaged and not _harmless(sql):
            raise LedgerUnavailable(self.damaged)
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
            self.stop_writes(str(exc))
            raise LedgerUnavailable(self.damaged) from exc

    def stop_writes(self, detail: str) -> None:
        """Refuse every later statement but reads of the damage itself; `query_only` makes
        SQLite refuse writes even from code that bypasses `execute`."""
        self.damaged = DAMAGED.format(path=self.path, detail=detail)
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.execute("PRAGMA query_only=ON")
        except sqlite3.Error:
            pass  # the connection is unusable anyway; `damaged` refuses the rest


def is_corruption(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in CORRUPTION_CODES:
        return True
    text = str(exc)
    return "malformed" in text or "not a database" in text


def _harmless(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("ROLLBACK", "SELECT", "PRAGMA QUICK_CHECK"))


def connect(path: Path, check: bool = True) -> LedgerDatabase:
    """Open (or create) the ledger. Raises LedgerUnavailable for a ledger that lost its schema
    or is damaged; `check` runs SQLite's quick_check (about a second per GB)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:  # the ledger was there until just now
            raise LedgerUnavailable(GONE.format(path=path, what="不见了（只剩下 -wal 文件）"))
        _create(path)
    elif path.stat().st_size == 0:
        raise LedgerUnavailable(GONE.format(path=path, what="是空文件（0 字节）"))
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    db = LedgerDatabase(conn)
    db.path = path
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if not _has_table(db, "_migrations"):
            raise LedgerUnavailable(GONE.format(path=path, what="里没有台账的表"))
        migrate(db)
        missing = sorted(set(_expected_tables()) - set(_tables(db)))
        if missing:
            raise LedgerUnavailable(GONE.format(path=path, what=f"缺少表 {'、'.join(missing)}"))
        if check:
            first = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if first != "ok":
                detail = [line for line in first.splitlines() if not line.startswith("***")]
                raise LedgerUnavailable(
                    DAMAGED.format(path=path, detail=(detail or [first])[0][:100])
                )
    except sqlite3.DatabaseError as exc:
        conn.close()
        if is_corruption(exc):
            raise LedgerUnavailable(DAMAGED.format(path=path, detail=exc)) from exc
        raise
    except BaseException:
        conn.close()
        raise
    return db


def _create(path: Path) -> None:
    """A new ledger, migrated in a side file and linked into place only when complete: another
    process never sees a `ledger.db` without its tables, so one found that way is damage."""
    side = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        conn = sqlite3.connect(side, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")  # kept in the file header
        migrate(sqlite_utils.Database(conn))
        conn.close()  # the last connection checkpoints and removes the -wal file
        try:
            os.link(side, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:  # a filesystem without hard links
            if not path.exists():
                os.replace(side, path)
    finally:
        for leftover in (side, Path(f"{side}-wal"), Path(f"{side}-shm")):
            leftover.unlink(missing_ok=True)


def _tables(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def _has_table(db: sqlite_utils.Database, name: str) -> bool:
    return name in _tables(db)


@lru_cache(maxsize=1)
def _expected_tables() -> tuple[str, ...]:
    """The tables the migrations create, found by running them on an empty in-memory database."""
    memory = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
    migrate(memory)
    tables = tuple(_tables(memory))
    memory.conn.close()
    return tables


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
        if db.conn.in_transaction:  # a damaged file may already have been rolled back
            db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
