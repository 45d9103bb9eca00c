"""Item 17 of issue #10: a ledger that lost its schema or has a damaged page is never written on."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_support import make_village

from bot.config import load_settings
from bot.ledger.db import LedgerUnavailable, connect, transaction
from bot.services.ledger_service import LedgerService


def _lianhu(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("LIANHU_")},
    )


def test_item17_zero_byte_ledger_refused_by_the_cli_with_the_restore_hint(tmp_path):
    (tmp_path / "ledger.db").write_bytes(b"")
    run = _lianhu("digest", "--json", data_dir=tmp_path)
    assert 2 == run.returncode
    assert "" == run.stdout
    assert "Traceback" not in run.stderr and 1 == len(run.stderr.strip().splitlines())
    assert "0 字节" in run.stderr and "lianhu backup" in run.stderr
    assert 0 == (tmp_path / "ledger.db").stat().st_size  # nothing was written into it


def test_item17_ledger_without_tables_refused(tmp_path):
    path = tmp_path / "ledger.db"
    sqlite3.connect(path).execute("CREATE TABLE unrelated (x)").connection.commit()
    with pytest.raises(LedgerUnavailable, match="没有台账的表"):
        LedgerService.open(load_settings(tmp_path))
    tables = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")]
    assert ["unrelated"] == tables


def test_item17_ledger_missing_a_table_refused(tmp_path):
    v = make_village(tmp_path)
    v.ledger.db.execute("DROP TABLE audit")
    v.ledger.close_db()
    with pytest.raises(LedgerUnavailable, match="缺少表 audit"):
        LedgerService.open(load_settings(tmp_path))


def test_item17_ledger_deleted_while_its_wal_remains_refused(tmp_path):
    (tmp_path / "ledger.db-wal").write_bytes(b"\0" * 4096)
    with pytest.raises(LedgerUnavailable, match="不见了"):
        connect(tmp_path / "ledger.db")
    assert not (tmp_path / "ledger.db").exists()


def test_item17_new_ledger_appears_complete_and_leaves_no_side_files(tmp_path):
    connect(tmp_path / "ledger.db").conn.close()
    assert ["ledger.db"] == sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    connect(tmp_path / "ledger.db").conn.close()  # and it opens again as the same ledger


def _corrupt(path: Path, table: str) -> None:
    """Overwrite the root page of a table with garbage, as a failing disk would."""
    db = sqlite3.connect(path)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name=?", [table]).fetchone()[0]
    db.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)


def test_item17_damaged_page_refused_at_open(tmp_path):
    v = make_village(tmp_path)
    v.ledger.close_db()
    _corrupt(tmp_path / "ledger.db", "households")
    with pytest.raises(LedgerUnavailable, match="已损坏.*停止写入"):
        LedgerService.open(load_settings(tmp_path))
    run = _lianhu("digest", data_dir=tmp_path)
    assert 2 == run.returncode and "Traceback" not in run.stderr and "已损坏" in run.stderr


def test_item17_damage_found_while_running_stops_every_later_write(tmp_path):
    v = make_village(tmp_path)
    path = tmp_path / "ledger.db"
    v.ledger.log_visit_text(v.volunteer, "张三 身体还行", "k1")
    v.ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the pages are in the file now
    _corrupt(path, "visits")
    # another writer commits, so the running service rereads pages from disk (as it would once
    # its cache turns over) and meets the damaged one
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("INSERT INTO _migrations VALUES ('other writer', 'x')")
    other.close()
    with pytest.raises(LedgerUnavailable, match="已损坏"):
        v.ledger.log_visit_text(v.volunteer, "张三 又去了一次", "k2")
    audit_rows = sqlite3.connect(path).execute("SELECT count(*) FROM audit").fetchone()[0]
    # a write that would not touch the damaged page is refused too, even bypassing the service
    with pytest.raises(LedgerUnavailable, match="已损坏"):
        with transaction(v.ledger.db):
            v.ledger.db.execute("INSERT INTO _migrations VALUES ('refused', 'x')")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        v.ledger.db.conn.execute("INSERT INTO _migrations VALUES ('bypass', 'x')")
    check = sqlite3.connect(path)
    assert audit_rows == check.execute("SELECT count(*) FROM audit").fetchone()[0]
    names = [r[0] for r in check.execute("SELECT name FROM _migrations WHERE applied_at = 'x'")]
    assert ["other writer"] == names


async def test_item17_chat_users_told_in_chinese_when_writes_stopped(tmp_path):
    from bot_support import Harness

    from bot import texts

    ledger = LedgerService.open(load_settings(tmp_path))
    volunteer = ledger.add_member("刘党员", "volunteer", "东村", "一组", telegram_id=11)
    ledger.add_household("东村", "张三", "一组", "12号", 3, "", (), volunteer)
    h = Harness(ledger.settings, None, ledger)
    assert "已记走访" in (await h.send("/走访 张三 身体还行", user_id=11))[0]
    ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _corrupt(tmp_path / "ledger.db", "visits")
    other = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
    other.execute("INSERT INTO _migrations VALUES ('other writer', 'x')")
    other.close()
    for _ in range(2):
        assert [texts.LEDGER_UNAVAILABLE] == await h.send("/走访 张三 又去了", user_id=11)
    assert ledger.db.damaged
