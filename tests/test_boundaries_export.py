"""Items 10, 11, 12 and 16 of issue #10 at the export: old rows with control characters, strings
that look like formulas, numbers typed oddly, and a workbook never left half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ledger_support import make_village
from openpyxl import load_workbook
from openpyxl.worksheet import _writer as openpyxl_writer

from bot.ledger.db import now_utc
from bot.services import export as export_module

HOSTILE_FORMULAS = [
    '=HYPERLINK("http://example.invalid/x","点此查看")',
    "=1+1",
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "=cmd|' /C calc'!A0",
]


def _all_cells(path: Path):
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def _old_row(v, situation: str, head_name: str = "张三") -> None:
    """A visit stored by an older version, before text was cleaned or numbers masked."""
    db = v.ledger.db
    db.execute("UPDATE households SET head_name=? WHERE id=?", [head_name, v.zhang.id])
    db.execute(
        "INSERT INTO visits (household_id, member_id, visited_at, method, situation, requests, "
        "policies, client_key, created_at) VALUES (?, ?, ?, '入户', ?, '', '', ?, ?)",
        [v.zhang.id, v.volunteer.id, now_utc(), situation, f"old:{situation}", now_utc()],
    )


def test_item10_export_opens_although_old_rows_hold_control_characters(tmp_path):
    v = make_village(tmp_path)
    _old_row(v, "腿疼\x0b需要轮椅\x00，\x1b[0m\ufffe完", head_name="张\x0b三")
    out = tmp_path / "台账.xlsx"
    written = v.ledger.export(out, viewer=v.township)
    assert 1 == written["走访记录"]
    values = [c.value for c in _all_cells(out) if isinstance(c.value, str)]
    assert "腿疼需要轮椅，[0m完" in values and "张三" in values
    assert not [s for s in values if any(ord(ch) < 32 and ch not in "\n\t" for ch in s)]


def test_item11_user_strings_are_text_cells_never_formulas(tmp_path):
    v = make_village(tmp_path)
    for i, text in enumerate(HOSTILE_FORMULAS):
        v.ledger.log_visit_text(v.volunteer, f"张三 {text}", f"k{i}")
    v.ledger.open_problem(v.volunteer, v.zhang.id, '=HYPERLINK("http://x.invalid")', "p1")
    _old_row(v, "\t=2*3", head_name="=张三")
    out = tmp_path / "台账.xlsx"
    v.ledger.export(out, viewer=v.township)
    cells = list(_all_cells(out))
    assert [] == [c.coordinate for c in cells if c.data_type == "f"]
    formula_like = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@\t"]
    shown = {c.value for c in formula_like}
    stored = {r[0] for r in v.ledger.db.execute("SELECT situation FROM visits")}
    assert stored | {"=张三", '=HYPERLINK("http://x.invalid")'} <= shown
    assert 8 <= len(shown)
    assert all(c.quotePrefix for c in formula_like)  # Excel keeps them text when edited too


def test_item12_export_masks_numbers_typed_in_any_digits_in_old_rows(tmp_path):
    v = make_village(tmp_path)
    _old_row(v, "身份证１１０１０５ １９４９１００１ ００１１，手机１３９-１２３４-５６７８")
    masked = tmp_path / "masked.xlsx"
    v.ledger.export(masked)
    values = " ".join(str(c.value) for c in _all_cells(masked))
    assert "身份证110105********0011，手机139****5678" in values
    full = tmp_path / "full.xlsx"
    v.ledger.export(full, viewer=v.village_admin)  # may see phones, never ID numbers
    values = " ".join(str(c.value) for c in _all_cells(full))
    assert "身份证110105********0011，手机１３９-１２３４-５６７８" in values


def test_item16_failed_export_keeps_the_previous_file_and_leaves_nothing_behind(
    tmp_path, monkeypatch
):
    v = make_village(tmp_path)
    v.ledger.log_visit_text(v.volunteer, "张三 身体还行", "k1")
    out = tmp_path / "out" / "台账.xlsx"
    v.ledger.export(out)
    good = out.read_bytes()
    temp_files_before = set(openpyxl_writer.ALL_TEMP_FILES)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module.Workbook, "save", broken)
    with pytest.raises(OSError):
        v.ledger.export(out)
    assert good == out.read_bytes()
    assert ["台账.xlsx"] == sorted(p.name for p in out.parent.iterdir())
    assert temp_files_before == set(openpyxl_writer.ALL_TEMP_FILES)


SLOW_EXPORT = """
import sys
from pathlib import Path
from bot.config import load_settings
from bot.services.ledger_service import LedgerService
ledger = LedgerService.open(load_settings(sys.argv[1]))
print("ready", flush=True)
ledger.export(Path(sys.argv[2]))
"""


def _many_visits(v, n: int) -> None:
    at = now_utc()
    v.ledger.db.conn.executemany(
        "INSERT INTO visits (household_id, member_id, visited_at, method, situation, requests, "
        "policies, client_key, created_at) VALUES (?, ?, ?, '入户', ?, '', '', ?, ?)",
        [
            (v.zhang.id, v.volunteer.id, at, f"第{i}次走访，身体还行", f"bulk{i}", at)
            for i in range(n)
        ],
    )


def test_item16_export_killed_mid_write_leaves_the_previous_file_intact(tmp_path):
    v = make_village(tmp_path)
    _many_visits(v, 5_000)
    out = tmp_path / "台账.xlsx"
    v.ledger.export(out)
    good = out.read_bytes()
    env = {k: val for k, val in os.environ.items() if not k.startswith("LIANHU_")}
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_EXPORT, str(tmp_path), str(out)],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert b"ready\n" == process.stdout.readline()
    deadline = time.monotonic() + 60
    staging = []
    while not staging and time.monotonic() < deadline:  # kill once its sheets are being written
        staging = [p for p in tmp_path.glob(".*.lianhu-export") if any(p.glob("openpyxl.*"))]
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert staging, "the export never started writing"
    assert good == out.read_bytes()  # the killed export wrote only into its staging folder
    load_workbook(out, read_only=True).close()
    v.ledger.export(out)  # the next export clears what the killed one left
    assert [] == list(tmp_path.glob(".*.lianhu-export"))
    assert 5_001 == sum(1 for _ in load_workbook(out, read_only=True)["走访记录"].iter_rows())


def test_item10_roster_import_cleans_control_characters_before_storing(tmp_path):
    from bot.config import load_settings
    from bot.services.ledger_service import LedgerService
    from bot.services.roster import import_roster

    ledger = LedgerService.open(load_settings(tmp_path))
    members = tmp_path / "党员.csv"
    members.write_text(
        "姓名,角色,村,网格,电话\n刘\x0b党员,联户党员,东村\x00,一组,\n", encoding="utf-8"
    )
    households = tmp_path / "农户.csv"
    households.write_text(
        "村,网格,户主,门牌,人口,电话,标签,联户党员\n"
        "东村,一组,张\x0b三\u200b,12号\x1b,3,13912345678,低保户,刘党员\n",
        encoding="utf-8",
    )
    assert import_roster(ledger, members).ok
    assert import_roster(ledger, households).ok
    rows = ledger.db.execute(
        "SELECT m.name, m.village, h.head_name, h.house_number FROM households h "
        "JOIN members m ON m.id = h.volunteer_id"
    ).fetchall()
    assert [("刘党员", "东村", "张三", "12号")] == rows
    out = tmp_path / "台账.xlsx"
    ledger.export(out)
    assert "张三" in [c.value for c in _all_cells(out)]


def test_item12_digest_text_json_and_summary_sheet_never_show_phone_or_id_numbers(tmp_path):
    import json
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.services.digest import digest_text

    v = make_village(tmp_path)
    v.ledger.open_problem(
        v.volunteer,
        v.zhang.id,
        "屋顶漏雨，联系儿子１３８ １２３４ ５６７８，证号110105194910010011",
        "p1",
    )
    v.ledger.db.execute("UPDATE problems SET deadline='2000-01-01T00:00:00+00:00'")
    year, week, _ = datetime.now(ZoneInfo("Asia/Shanghai")).isocalendar()
    digest = v.ledger.digest(f"{year}-W{week:02d}")
    shown = [digest_text(digest, v.ledger.tz), json.dumps(digest.to_json(), ensure_ascii=False)]
    out = tmp_path / "台账.xlsx"
    v.ledger.export(out, viewer=v.township)  # a role that sees phones in the other sheets
    shown.append(" ".join(str(c.value) for c in load_workbook(out)["汇总"].iter_rows() for c in c))
    for text in shown:
        assert "屋顶漏雨" in text and "138****5678" in text
        assert "1234" not in text and "110105194910010011" not in text
