"""README against the code (issue #10 acceptance 5): every chat command of texts.COMMANDS and
every `lianhu` command with its options is documented, nothing documented is missing from the
code, the roster columns match the importer, and the restore procedure works as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import typer.main

from bot import cli, texts
from bot.config import load_settings
from bot.services.ledger_service import LedgerService
from bot.services.roster import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(title)
    following = re.search(r"\n#{2,3} ", README[start + len(title) :])
    return README[start : start + len(title) + (following.start() if following else len(README))]


def _table_rows(section: str) -> list[str]:
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][
        1:
    ]


def test_readme_documents_every_chat_command_and_no_other():
    rows = _table_rows(_section("### Chat commands"))
    documented = {name for row in rows for name in re.findall(r"`/([^`\s]+)`", row.split("|")[1])}
    in_code = {name for c in texts.COMMANDS for name in (c.name, *c.aliases)}
    assert in_code == documented


def test_readme_documents_every_lianhu_command_with_real_options():
    cli._register_all()
    group = typer.main.get_command(cli.app)
    rows = _table_rows(_section("## Commands"))
    documented = {}
    for row in rows:
        usage = re.search(r"`lianhu ([a-z-]+)([^`]*)`", row)
        documented[usage.group(1)] = re.findall(r"--[a-z-]+", usage.group(2))
    assert set(group.commands) == set(documented)
    for name, options in documented.items():
        real = {opt for p in group.commands[name].params for opt in getattr(p, "opts", [])}
        assert set(options) <= real, (name, set(options) - real)


def test_readme_roster_columns_are_the_importers():
    rows = _table_rows(_section("### The roster"))
    cells = [[c.strip() for c in row.split("|")[1:3]] for row in rows]
    assert list(MEMBER_COLUMNS) == [col for sheet, col in cells if sheet == "党员"]
    assert list(HOUSEHOLD_COLUMNS) == [col for sheet, col in cells if sheet == "农户"]


def test_restore_from_backup_as_the_readme_says(tmp_path):
    assert "copy the backup over `data/ledger.db`" in README
    settings = load_settings(tmp_path / "data")
    ledger = LedgerService.open(settings)
    member = ledger.add_member("刘党员", "volunteer", "东村", "一组")
    household = ledger.add_household("东村", "张三", "一组", "12号", 3, "", (), member)
    ledger.log_visit(member, household.id, "备份前", client_key="k1")
    ledger.backup(tmp_path / "backup" / "ledger.db")
    ledger.log_visit(member, household.id, "备份后", client_key="k2")
    ledger.close_db()
    # stop the bot, copy the backup over data/ledger.db, delete -wal and -shm, start again
    shutil.copy(tmp_path / "backup" / "ledger.db", settings.ledger_path)
    for suffix in ("-wal", "-shm"):
        Path(f"{settings.ledger_path}{suffix}").unlink(missing_ok=True)
    restored = LedgerService.open(settings)
    assert [("备份前",)] == restored.db.execute("SELECT situation FROM visits").fetchall()
    assert "ok" == restored.db.execute("PRAGMA integrity_check").fetchone()[0]
    restored.log_visit(member, household.id, "恢复后", client_key="k3")  # writable again
