"""Digest figures against hand-computed values, export masking, roster import, concurrency."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ledger_support import make_village
from openpyxl import load_workbook

from bot.config import load_settings
from bot.ledger import households as households_db
from bot.ledger import members as members_db
from bot.ledger import problems as problems_db
from bot.ledger import visits as visits_db
from bot.services.digest import digest_text, parse_week
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import LedgerError
from bot.services.roster import import_roster

TZ = ZoneInfo("Asia/Shanghai")


def _at(day: str, hour: int = 10) -> str:
    return (
        datetime.fromisoformat(f"{day}T{hour:02d}:00")
        .replace(tzinfo=TZ)
        .astimezone(ZoneInfo("UTC"))
        .isoformat()
    )


def test_digest_equals_hand_computed_figures(tmp_path):
    v = make_village(tmp_path)
    db = v.ledger.db
    # Week 2026-W46 is Mon 11-09 .. Sun 11-15 (Asia/Shanghai); W45 is 11-02 .. 11-08.
    visits_db.insert_visit(
        db, v.zhang.id, v.volunteer.id, _at("2026-11-09"), "入户", "a", "", "", "k1"
    )
    visits_db.insert_visit(
        db, v.zhang.id, v.volunteer.id, _at("2026-11-15", 23), "电话", "b", "", "", "k2"
    )
    visits_db.insert_visit(
        db, v.wang.id, v.other_volunteer.id, _at("2026-11-12"), "入户", "c", "", "", "k3"
    )
    visits_db.insert_visit(
        db, v.li.id, v.volunteer.id, _at("2026-11-16", 0), "入户", "next week", "", "", "k4"
    )
    visits_db.insert_visit(
        db, v.li.id, v.volunteer.id, _at("2026-11-03"), "入户", "last week", "", "", "k5"
    )
    # problems: one opened in W45 and resolved on time in W46; one opened in W46 and overdue
    p1 = problems_db.insert_problem(
        db,
        v.zhang.id,
        None,
        v.volunteer.id,
        "",
        "漏雨",
        "volunteer",
        "resolved",
        _at("2026-11-12"),
        _at("2026-11-05"),
        "p1",
    )
    problems_db.insert_event(
        db,
        p1,
        v.volunteer.id,
        "resolve",
        "recorded",
        "resolved",
        "修好",
        "e1",
        at=_at("2026-11-10"),
    )
    db.execute("UPDATE problems SET resolved_at=? WHERE id=?", [_at("2026-11-10"), p1])
    problems_db.insert_event(
        db,
        p1,
        v.volunteer.id,
        "follow_up",
        "resolved",
        "followed_up",
        "满意",
        "e2",
        at=_at("2026-11-11"),
    )
    p2 = problems_db.insert_problem(
        db,
        v.wang.id,
        None,
        v.other_volunteer.id,
        "",
        "路灯坏",
        "village",
        "escalated_village",
        _at("2026-11-13"),
        _at("2026-11-10"),
        "p2",
    )
    problems_db.insert_event(
        db,
        p2,
        v.other_volunteer.id,
        "escalate",
        "recorded",
        "escalated_village",
        "",
        "e3",
        at=_at("2026-11-10", 11),
    )
    p3 = problems_db.insert_problem(
        db,
        v.li.id,
        None,
        v.volunteer.id,
        "",
        "证件",
        "volunteer",
        "solved_on_spot",
        _at("2026-11-20"),
        _at("2026-11-14"),
        "p3",
    )
    problems_db.insert_event(
        db,
        p3,
        v.volunteer.id,
        "solve_on_spot",
        "recorded",
        "solved_on_spot",
        "办了",
        "e4",
        at=_at("2026-11-14", 11),
    )
    db.execute("UPDATE problems SET resolved_at=? WHERE id=?", [_at("2026-11-14", 11), p3])

    d = v.ledger.digest("2026-W46")
    w = d.this_week
    # 张山 (西村) has no volunteer assigned: three households are assigned, two were visited
    assert ("2026-W46", 3, 3, 2) == (w.week, w.visits, w.households_assigned, w.households_visited)
    assert round(2 / 3, 4) == w.coverage
    # special households: 张三 (低保户), 李四 (空巢老人), 张山 (重残, 西村); in November up to 11-15
    # 张三 was visited (11-09) and 李四 (11-03): 2 of 3
    assert (3, 2) == (w.special_due, w.special_visited)
    assert (2, 1, 1, 1) == (
        w.problems_new,
        w.problems_solved_on_spot,
        w.problems_escalated,
        w.problems_resolved,
    )
    assert 1 == w.problems_overdue  # p2: deadline 11-13, still open at the week's end
    assert round(2 / 3, 4) == w.resolution_rate  # p1 and p3 of three opened by 11-15
    assert 1.0 == w.on_time_rate  # p1 (11-10 ≤ 11-12) and p3 (11-14 ≤ 11-20)
    assert 1.0 == w.satisfaction_rate
    assert [] == w.zero_visit_members
    p = d.previous_week
    assert ("2026-W45", 1, 1, 0) == (p.week, p.visits, p.problems_new, p.problems_resolved)
    assert ["刘党员", "陈党员"] == sorted(v.ledger.digest("2026-W44").this_week.zero_visit_members)
    text = digest_text(d, TZ)
    assert len(text) <= 4096 and "走访 3 次" in text and "#" in text


def test_week_parsing():
    assert (2026, 47) == parse_week(
        None, datetime(2026, 11, 23).date()
    )  # a Monday: last week is W47
    assert (2026, 46) == parse_week(
        None, datetime(2026, 11, 22).date()
    )  # a Sunday: W47 not complete
    with pytest.raises(LedgerError, match="2026-W47"):
        parse_week("第47周", datetime(2026, 11, 22).date())


def test_export_masks_phones_and_ids_unless_allowed(tmp_path):
    v = make_village(tmp_path)
    v.ledger.log_visit_text(v.volunteer, "张三 儿子电话13912345678 身份证110105194912310021", "k1")
    masked = tmp_path / "masked.xlsx"
    v.ledger.export(masked)
    wb = load_workbook(masked)
    assert ["汇总", "走访记录", "问题台账", "农户"] == wb.sheetnames
    visits = wb["走访记录"]
    assert "走访时间" == visits["B1"].value and "A2" == visits.freeze_panes
    situation = visits["I2"].value
    assert "139****5678" in situation and "110105********0021" in situation
    phones = [row[6] for row in wb["农户"].iter_rows(min_row=2, values_only=True) if row[6]]
    assert ["139****5678"] == phones
    full = tmp_path / "full.xlsx"
    v.ledger.export(full, viewer=v.village_admin)
    assert ["13912345678"] == [
        r[6] for r in load_workbook(full)["农户"].iter_rows(min_row=2, values_only=True) if r[6]
    ]
    # only the export that showed full phone numbers is recorded, with who took it
    exports = v.ledger.db.execute(
        "SELECT actor_id, action, after FROM audit WHERE entity='export'"
    ).fetchall()
    assert [(v.village_admin.id, "export_with_phones")] == [(a, b) for a, b, _ in exports]
    assert "full.xlsx" in exports[0][2]
    with pytest.raises(LedgerError):
        v.ledger.export(tmp_path / "no.xlsx", viewer=v.volunteer)


def test_roster_import_is_all_or_nothing_with_a_row_report(tmp_path):
    ledger = LedgerService.open(load_settings(tmp_path))
    members = tmp_path / "党员.csv"
    members.write_text(
        "姓名,角色,村,网格,电话\n刘一,联户党员,东村,一组,\n,联户党员,东村,一组,\n"
        "王二,队长,东村,一组,\n",
        encoding="utf-8",
    )
    report = import_roster(ledger, members)
    assert not report.ok
    assert [
        "党员表第 3 行：缺少姓名",
        "党员表第 4 行：角色“队长”不认识，请写 联户党员、网格长、村级管理员 或 乡镇管理员",
    ] == report.rejected
    assert 0 == ledger.db.execute("SELECT count(*) FROM members").fetchone()[0]

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "党员"
    wb.active.append(["姓名", "角色", "村", "网格", "电话"])
    wb.active.append(["刘一", "联户党员", "东村", "一组", "13800000001"])
    households = wb.create_sheet("农户")
    households.append(["村", "网格", "户主", "门牌", "人口", "电话", "标签", "联户党员"])
    households.append(["东村", "一组", "张三", "1号", 3, "", "低保户、空巢老人", "刘一"])
    households.append(["东村", "一组", "李四", "2号", "三", "", "", "刘一"])
    roster = tmp_path / "花名册.xlsx"
    wb.save(roster)
    report = import_roster(ledger, roster)
    assert ["农户表第 3 行：人口“三”不是数字"] == report.rejected
    households["E3"] = 2
    wb.save(roster)
    report = import_roster(ledger, roster)
    assert (True, 1, 2) == (report.ok, report.members_added, report.households_added)
    zhang = [
        h
        for h in households_db.visible_households(
            ledger.db, members_db.members_named(ledger.db, "刘一")[0]
        )
    ]
    assert ("低保户", "空巢老人") == zhang[0].tags


def _writer(args):
    path, worker, n = args
    ledger = LedgerService.open(load_settings(path))
    volunteer = members_db.members_named(ledger.db, "刘党员")[0]
    households = ledger.visible_households(volunteer)
    for i in range(n):
        # every write twice: a redelivered update must not add a row
        for _ in range(2):
            ledger.log_visit(
                volunteer,
                households[i % len(households)].id,
                f"w{worker} v{i}",
                client_key=f"{worker}:{i}",
            )
    return n


def test_eight_processes_writing_visits_lose_and_duplicate_nothing(tmp_path):
    make_village(tmp_path)
    n = 60
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        assert [n] * 8 == pool.map(_writer, [(tmp_path, w, n) for w in range(8)])
    ledger = LedgerService.open(load_settings(tmp_path))
    assert (8 * n, 8 * n) == ledger.db.execute(
        "SELECT count(*), count(DISTINCT client_key) FROM visits"
    ).fetchone()


def test_backup_is_a_consistent_copy(tmp_path):
    v = make_village(tmp_path)
    v.ledger.log_visit_text(v.volunteer, "张三 挺好", "k1")
    target = tmp_path / "backup" / "ledger.db"
    v.ledger.backup(target)
    import sqlite3

    assert 1 == sqlite3.connect(target).execute("SELECT count(*) FROM visits").fetchone()[0]


def test_deadlines_follow_the_configured_days(tmp_path):
    v = make_village(tmp_path)
    p = v.ledger.open_problem(v.volunteer, v.zhang.id, "漏雨", "k1")
    opened = datetime.fromisoformat(p.opened_at)
    assert (
        timedelta(days=3) - timedelta(minutes=1)
        < datetime.fromisoformat(p.deadline) - opened
        < timedelta(days=3, minutes=1)
    )
    p = v.ledger.escalate(v.volunteer, p.id, "e1").problem
    assert timedelta(days=7) - timedelta(minutes=1) < datetime.fromisoformat(p.deadline) - opened
