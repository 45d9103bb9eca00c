"""Roster import as an update (issue #10 item 5): the same file twice changes nothing, an edited
file updates what changed, the template round-trips, and every change is audited."""

from __future__ import annotations

from openpyxl import load_workbook
from typer.testing import CliRunner

from bot import cli
from bot.config import load_settings
from bot.services.ledger_service import LedgerService
from bot.services.roster import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, import_roster


def _roster(path, members, households):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "党员"
    wb.active.append(list(MEMBER_COLUMNS))
    for row in members:
        wb.active.append(list(row))
    sheet = wb.create_sheet("农户")
    sheet.append(list(HOUSEHOLD_COLUMNS))
    for row in households:
        sheet.append(list(row))
    wb.save(path)
    return path


MEMBERS = [
    ("刘一", "联户党员", "东村", "一组", "13800000001"),
    ("孙书记", "村级管理员", "东村", "", ""),
]
HOUSEHOLDS = [
    ("", "东村", "一组", "张三", "1号", 3, "13900000001", "低保户", "刘一"),
    ("", "东村", "一组", "李四", "2号", 2, "", "", "刘一"),
]


def test_item5_reimport_is_an_update_reporting_added_changed_unchanged(tmp_path):
    ledger = LedgerService.open(load_settings(tmp_path / "data"))
    path = _roster(tmp_path / "花名册.xlsx", MEMBERS, HOUSEHOLDS)
    first = import_roster(ledger, path)
    assert (2, 2) == (first.members_added, first.households_added), first.summary()
    again = import_roster(ledger, path)  # the same file: everything unchanged, nothing refused
    assert again.ok, again.summary()
    assert (0, 0, 2, 0, 0, 2) == (
        again.members_added,
        again.members_changed,
        again.members_unchanged,
        again.households_added,
        again.households_changed,
        again.households_unchanged,
    )
    assert "没变 2 人" in again.summary()

    members = [
        MEMBERS[0][:4] + ("13800000009",),
        MEMBERS[1],
        ("陈二", "联户党员", "东村", "二组", ""),
    ]
    households = [
        ("", "东村", "一组", "张三", "1号", 4, "13900000001", "低保户、重病", "刘一"),
        ("2", "东村", "二组", "李四", "2号", 2, "", "", "陈二"),  # by 编号: moves to 陈二
        ("", "东村", "二组", "王五", "5号", 1, "", "", "陈二"),
    ]
    update = import_roster(ledger, _roster(tmp_path / "新花名册.xlsx", members, households))
    assert update.ok, update.summary()
    assert (1, 1, 1, 1, 2, 0) == (
        update.members_added,
        update.members_changed,
        update.members_unchanged,
        update.households_added,
        update.households_changed,
        update.households_unchanged,
    )
    rows = ledger.db.execute(
        "SELECT h.id, h.head_name, h.size, h.tags, m.name FROM households h "
        "JOIN members m ON m.id = h.volunteer_id ORDER BY h.id"
    ).fetchall()
    assert [
        (1, "张三", 4, "低保户,重病", "刘一"),
        (2, "李四", 2, "", "陈二"),
        (3, "王五", 1, "", "陈二"),
    ] == rows
    assert "13800000009" == ledger.members_named("刘一")[0].phone
    audits = ledger.db.execute(
        "SELECT entity, entity_id, action FROM audit WHERE action='import_update' ORDER BY id"
    ).fetchall()
    assert [
        ("member", 1, "import_update"),
        ("household", 1, "import_update"),
        ("household", 2, "import_update"),
    ] == audits


def test_item5_bad_rows_reject_the_whole_file_with_reasons(tmp_path):
    ledger = LedgerService.open(load_settings(tmp_path / "data"))
    import_roster(ledger, _roster(tmp_path / "a.xlsx", MEMBERS, HOUSEHOLDS))
    bad = [
        ("99", "东村", "一组", "赵六", "6号", 1, "", "", ""),
        ("", "东村", "一组", "张三", "1号", 3, "", "", "刘一"),
        ("", "东村", "一组", "张三", "1号", "三", "", "", "刘一"),
        ("1", "东村", "一组", "张三改", "1号", 3, "", "", "刘一"),
    ]
    report = import_roster(ledger, _roster(tmp_path / "b.xlsx", [], bad))
    assert [
        "农户表第 2 行：编号“99”不是东村的农户",
        "农户表第 4 行：人口“三”不是数字",
        "农户表第 5 行：和第 3 行是同一户",
    ] == report.rejected
    assert "李四" == ledger.db.execute("SELECT head_name FROM households WHERE id=2").fetchone()[0]
    assert 2 == ledger.db.execute("SELECT count(*) FROM households").fetchone()[0]


def test_item5_template_round_trips_through_the_import(tmp_path):
    cli._register_all()
    template = tmp_path / "模板.xlsx"
    result = CliRunner().invoke(cli.app, ["roster-template", "--out", str(template)])
    assert 0 == result.exit_code, result.output
    wb = load_workbook(template, read_only=True)
    assert ["党员", "农户", "说明"] == wb.sheetnames
    assert list(HOUSEHOLD_COLUMNS) == [c for c in next(wb["农户"].iter_rows(values_only=True))]
    data = ["--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(cli.app, ["import-roster", str(template), *data])
    assert 0 == result.exit_code and "新增 1 人" in result.output and "新增 1 户" in result.output
    result = CliRunner().invoke(cli.app, ["import-roster", str(template), *data])
    assert 0 == result.exit_code and "没变 1 人" in result.output and "没变 1 户" in result.output
