"""Issue #10 items 1–4 and 14 through the real Dispatcher: 当场解决 by button and command and its
rates in the digest, every button step also a typed command, /我的 with counts and pages, /更正,
and typed escalation that cannot overshoot."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from ledger_bot_support import (
    ADMIN,
    GRID,
    OTHER_VOLUNTEER,
    TOWNSHIP,
    TZ,
    VOLUNTEER,
    Clock,
    buttons,
    counts,
    status,
    village_bot,
)
from openpyxl import load_workbook

from bot import texts
from bot.config import load_settings
from bot.services import lifecycle
from bot.services.digest import digest_text
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import Conflict


@pytest.fixture
def h(tmp_path):
    return village_bot(tmp_path)


async def test_item1_solve_on_spot_button_asks_for_the_result_and_records_it(h):
    replies = await h.send("/走访 张三 腿疼 #问题 轮椅坏了", user_id=VOLUNTEER)
    assert "登记了问题 #1" in replies[0]
    keyboard = buttons(h.last_markup())
    assert ["当场解决", "上报村级", "办结"] == list(keyboard)
    asked = await h.press(keyboard["当场解决"], user_id=VOLUNTEER, message_id=70)
    assert "请用一句话写怎么当场解决的" in asked[-1]
    assert "recorded" == status(h, 1)  # nothing moves before the result is written
    done = await h.send("帮他把轮椅修好了", user_id=VOLUNTEER)
    assert "问题 #1 现在是“当场解决”" in done[0]
    row = h.v.ledger.db.execute("SELECT status, result, resolved_at FROM problems").fetchone()
    assert ("solved_on_spot", "帮他把轮椅修好了") == row[:2] and row[2]
    assert "回访：满意" in buttons(h.last_markup())  # the next step is offered at once
    week = h.v.ledger.digest(h.v.ledger.now().strftime("%G-W%V")).this_week
    assert (1, 1, 1.0) == (week.problems_new, week.problems_solved_on_spot, week.on_spot_rate)


async def test_item1_solve_on_spot_by_command(h):
    await h.send("/问题 张三 屋顶漏雨", user_id=VOLUNTEER)
    assert (
        "请写上怎么解决的，比如“/当场解决 12" in (await h.send("/当场解决 1", user_id=VOLUNTEER))[0]
    )
    assert "当场解决" in (await h.send("/当场解决 1 已找人补好", user_id=VOLUNTEER))[0]
    assert "刘党员刚刚处理过了" in (await h.send("/当场解决 1 又补了一遍", user_id=ADMIN))[0]
    assert ("solved_on_spot", (0, 1, 1)) == (status(h, 1), counts(h))


def test_item1_digest_rates_consistent_in_json_text_chart_and_export(tmp_path, monkeypatch):
    clock = Clock(datetime(2026, 11, 10, 9, 0, tzinfo=TZ))  # Tuesday of 2026-W46
    h = village_bot(tmp_path, clock=clock)
    v, ledger = h.v, h.v.ledger
    ids = [ledger.open_problem(v.volunteer, v.zhang.id, f"问题{i}", f"k{i}").id for i in range(4)]
    clock.at += timedelta(hours=1)
    ledger.solve_on_spot(v.volunteer, ids[0], "当场修好", "s0")
    ledger.escalate(v.volunteer, ids[1], "e1")
    ledger.resolve(v.village_admin, ids[1], "村里办了", "r1")
    ledger.escalate(v.volunteer, ids[2], "e2")
    ledger.escalate(v.village_admin, ids[2], "e2b")
    ledger.resolve(v.township, ids[2], "乡里办了", "r2")
    digest = ledger.digest("2026-W46")
    data = digest.to_json()
    assert (4, 1, 0.25) == (
        data["problems_new"],
        data["problems_solved_on_spot"],
        data["on_spot_rate"],
    )
    assert (3, 2, round(2 / 3, 4)) == (
        data["resolved_in_week"],
        data["resolved_in_village"],
        data["resolved_in_village_rate"],
    )
    text = digest_text(digest, TZ)
    assert "就地化解率 25.0%（当场解决 1/新问题 4" in text
    assert "不出村率 66.7%（本周办结 3 个，其中未上报乡镇 2 个" in text

    from bot.services import chart

    drawn = {}
    real_bars = chart._bars

    def spy(ax, labels, before, now, unit):
        drawn.update(zip(labels, now, strict=True))
        return real_bars(ax, labels, before, now, unit)

    monkeypatch.setattr(chart, "_bars", spy)
    assert chart.digest_png(digest)[:4] == b"\x89PNG"
    assert (25.0, round(200 / 3, 2)) == (drawn["就地化解"], round(drawn["不出村"], 2))

    out = tmp_path / "台账.xlsx"
    ledger.export(out, week="2026-W46")
    summary = {
        row[0]: row[1]
        for row in load_workbook(out, read_only=True)["汇总"].iter_rows(values_only=True)
    }
    assert summary["就地化解率"].startswith("25.0%") and summary["不出村率"].startswith("66.7%")


def test_item2_every_step_of_the_table_has_a_typed_command_and_a_labelled_button():
    names = {c.name: c for c in texts.COMMANDS}
    for transition in lifecycle.TRANSITIONS:
        spec = names[lifecycle.ACTIONS[transition.action].command]
        assert spec.aliases and lifecycle.ACTIONS[transition.action].name in spec.aliases
        assert transition.label != "上报"  # a button says where it goes
    assert {"上报村级", "上报乡镇"} <= {t.label for t in lifecycle.TRANSITIONS}


async def test_item2_close_and_every_step_by_typed_command(h):
    await h.send("/问题 张三 屋顶漏雨", user_id=VOLUNTEER)
    assert "已上报村级" in (await h.send("/上报 1", user_id=VOLUNTEER))[0]
    reply = await h.send("/上报 1 乡镇", user_id=ADMIN)
    assert "已上报乡镇" in reply[0]
    assert "已办结" in (await h.send("/办结 1 乡里派人修好", user_id=TOWNSHIP))[0]
    assert "已回访" in (await h.send("/回访 1 满意", user_id=VOLUNTEER))[0]
    assert "管理员" in (await h.send("/销号 1", user_id=VOLUNTEER))[0]
    assert "已销号" in (await h.send("/销号 1", user_id=ADMIN))[0]
    actions = [r[0] for r in h.v.ledger.db.execute("SELECT action FROM problem_events ORDER BY id")]
    assert ["escalate", "escalate", "resolve", "follow_up", "close"] == actions


async def test_item2_coordinator_sees_escalate_to_township_button(h):
    await h.send("/问题 张三 屋顶漏雨", user_id=VOLUNTEER)
    await h.send("/上报 1", user_id=VOLUNTEER)
    replies = await h.send("/我的", user_id=ADMIN)
    assert any("已上报村级" in r for r in replies)
    assert {"上报乡镇", "办结"} == set(buttons(h.last_markup()))
    pressed = await h.press(buttons(h.last_markup())["上报乡镇"], user_id=ADMIN, message_id=80)
    assert "已上报乡镇" in pressed[0]


async def test_item3_mine_counts_marks_overdue_and_pages(tmp_path):
    clock = Clock()
    h = village_bot(tmp_path, clock=clock)
    v = h.v
    clock.at = datetime.now(TZ) - timedelta(days=10)  # opened 10 days ago: past the 3-day deadline
    for i in range(4):
        v.ledger.open_problem(v.volunteer, v.zhang.id, f"旧问题{i}", f"old{i}")
    clock.at = None
    for i in range(20):
        v.ledger.open_problem(v.volunteer, v.li.id, f"新问题{i}", f"new{i}")
    v.ledger.solve_on_spot(v.volunteer, 24, "办好了", "s24")
    replies = await h.send("/我的", user_id=VOLUNTEER)
    assert "您的问题共 24 个：待处理 23 个（超期 4 个），待回访或销号 1 个。第 1/3 页" in replies[0]
    lines = replies[1:11]
    assert 10 == len(lines)
    assert all(line.startswith("【超期】") for line in lines[:4])
    assert not any("【超期】" in line for line in lines[4:])
    assert "还有 14 个，发 /我的 2 看下一页" in replies[-1]
    last = await h.send("/我的 3", user_id=VOLUNTEER)
    assert "第 3/3 页" in last[0] and len(last) == 5 and "还有" not in last[-1]
    assert "没有第 9 页，一共 3 页" in (await h.send("/我的 9", user_id=VOLUNTEER))[0]
    assert "请这样写" in (await h.send("/我的 下一页", user_id=VOLUNTEER))[0]
    assert "目前没有" in (await h.send("/我的", user_id=OTHER_VOLUNTEER))[0]


async def test_item4_correct_the_last_visit_or_a_numbered_one(h):
    saved = await h.send("/走访 张三 腿疼", user_id=VOLUNTEER)
    assert "走访编号 1" in saved[0] and "/更正" in saved[0]
    fixed = await h.send("/更正 腰疼，不是腿疼", user_id=VOLUNTEER, message_id=500)
    assert "已更正走访 #1：新记录 #2" in fixed[0]
    again = await h.send("/更正 腰疼，不是腿疼", user_id=VOLUNTEER, message_id=500)
    assert "已经记过了" in again[0]  # a redelivered correction stores nothing twice
    assert "已经更正过了（新记录 #2）" in (await h.send("/更正 1 又改", user_id=VOLUNTEER))[0]
    assert "已更正走访 #2：新记录 #3" in (await h.send("/更正 #2 腰疼好些了", user_id=VOLUNTEER))[0]
    assert "只能更正自己的" in (await h.send("/更正 3 乱改", user_id=GRID))[0]
    assert "请写上更正后的" in (await h.send("/更正 3", user_id=VOLUNTEER))[0]
    rows = h.v.ledger.db.execute(
        "SELECT id, situation, supersedes, superseded_by FROM visits ORDER BY id"
    ).fetchall()
    assert [(1, "腿疼", None, 2), (2, "腰疼，不是腿疼", 1, 3), (3, "腰疼好些了", 2, None)] == rows
    audit = h.v.ledger.db.execute(
        "SELECT action FROM audit WHERE entity='visit' ORDER BY id"
    ).fetchall()
    assert [("create",), ("correct",), ("correct",)] == audit


async def test_item14_typed_escalation_sent_twice_stops_at_the_village(h):
    await h.send("/问题 张三 屋顶漏雨", user_id=VOLUNTEER)
    assert "已上报村级" in (await h.send("/上报 1", user_id=ADMIN))[0]
    second = await h.send("/上报 1", user_id=ADMIN)
    assert "已经办过了" in second[0] and "已上报村级" in second[0]
    assert "/上报 1 乡镇" in second[0]  # says how to go further on purpose
    assert "escalated_village" == status(h, 1)
    raced = await h.send("/上报 1", user_id=GRID)  # the grid leader meant the same step
    assert "孙书记刚刚处理过了" in raced[0]
    assert (0, 1, 1) == counts(h)


def test_item14_two_people_escalating_at_once_never_overshoot(tmp_path):
    h = village_bot(tmp_path)
    v = h.v
    settings = load_settings(tmp_path)
    for run in range(10):
        pid = v.ledger.open_problem(v.volunteer, v.zhang.id, f"漏雨{run}", f"p{run}").id
        outcomes: list[str] = []
        barrier = threading.Barrier(2)

        def escalate(member, key, pid=pid, outcomes=outcomes, barrier=barrier):
            ledger = LedgerService.open(settings)  # its own connection, like another process
            barrier.wait()
            try:
                result = ledger.escalate(member, pid, key, to_level="village")
                outcomes.append("replayed" if result.replayed else "moved")
            except Conflict:
                outcomes.append("conflict")
            finally:
                ledger.close_db()

        threads = [
            threading.Thread(target=escalate, args=(v.village_admin, f"a{run}")),
            threading.Thread(target=escalate, args=(v.grid_leader, f"g{run}")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ["conflict", "moved"] == sorted(outcomes)
        assert "escalated_village" == status(h, pid)
