"""Hostile input through the real Dispatcher (issue #10 items 13, 14, 15, 20): odd digits,
overflowing ids, impossible weeks and dates, forged and garbled buttons, wrong roles,
strangers. Every case gets a Chinese reply that says what to do, stores nothing, and never
reaches the error net (which would mean an exception escaped a handler)."""

from __future__ import annotations

import io
import logging
import threading

import pytest
from ledger_bot_support import (
    ADMIN,
    OTHER_VOLUNTEER,
    STRANGER,
    VOLUNTEER,
    counts,
    village_bot,
)

from bot import texts
from bot.config import load_settings
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import Conflict

LONG = "很" * 3000

# (case, sender, typed text or None, button data or None, expected words in the reply)
CASES = [
    ("household by a superscript digit", VOLUNTEER, "/户 ²", None, "没有“²”"),
    ("household by a circled digit", VOLUNTEER, "/户 ①", None, "没有“①”"),
    ("household id zero", VOLUNTEER, "/户 户0", None, "没有“户0”"),
    ("visit for a circled digit", VOLUNTEER, "/走访 ① 看看", None, "没有“①”"),
    ("visit for a 20-digit id", VOLUNTEER, "/走访 户99999999999999999999 看看", None, "没有"),
    ("issue for a circled digit", VOLUNTEER, "/问题 ② 漏雨", None, "没有“②”"),
    ("issue of 5000 characters", VOLUNTEER, "/问题 张三 " + "漏" * 5000, None, "消息太长"),
    ("resolve a 20-digit id", VOLUNTEER, "/办结 99999999999999999999 好了", None, "请这样写"),
    ("escalate a 20-digit id", VOLUNTEER, "/上报 99999999999999999999", None, "请这样写"),
    ("escalate nothing", VOLUNTEER, "/上报", None, "请这样写"),
    ("follow up a superscript id", VOLUNTEER, "/回访 ¹ 满意", None, "请这样写"),
    ("close problem zero", ADMIN, "/销号 0", None, "请这样写"),
    ("solve a negative id", VOLUNTEER, "/当场解决 -1 好了", None, "请这样写"),
    ("solve with a 3000-character result", VOLUNTEER, f"/当场解决 1 {LONG}", None, "消息太长"),
    ("resolve with a 3000-character result", VOLUNTEER, f"/办结 1 {LONG}", None, "消息太长"),
    ("follow up without a verdict", VOLUNTEER, "/回访 1", None, "满意、基本满意"),
    ("follow up three verdicts", VOLUNTEER, "/回访 1 满意 满意 满意", None, "办结以后才能回访"),
    ("close before follow-up", VOLUNTEER, "/销号 1", None, "回访以后才能销号"),
    ("escalate to the township skipping the village", VOLUNTEER, "/上报 1 乡镇", None, "不是"),
    ("escalate another volunteer's problem", OTHER_VOLUNTEER, "/上报 1", None, "没有找到编号 1"),
    ("solve another volunteer's problem", OTHER_VOLUNTEER, "/当场解决 1 好了", None, "没有找到"),
    ("digest of year 1", ADMIN, "/周报 0001-W01", None, "2000—2100"),
    ("digest of year 9999", ADMIN, "/周报 9999-W52", None, "2000—2100"),
    ("digest of week 60", ADMIN, "/周报 2026-W60", None, "2026-W47"),
    ("digest of week 0", ADMIN, "/周报 2026-W00", None, "2026-W47"),
    ("digest with full-width digits", ADMIN, "/周报 ２０２６-W47", None, "2026-W47"),
    ("my problems page ²", VOLUNTEER, "/我的 ²", None, "请这样写"),
    ("my problems page of 11 digits", VOLUNTEER, "/我的 99999999999", None, "请这样写"),
    ("my problems page zero", VOLUNTEER, "/我的 0", None, "请这样写"),
    ("my problems two pages", VOLUNTEER, "/我的 1 2", None, "请这样写"),
    ("my problems page far away", VOLUNTEER, "/我的 40", None, "没有第 40 页"),
    ("correct with nothing", VOLUNTEER, "/更正", None, "请写上更正后的"),
    ("correct a 20-digit visit", VOLUNTEER, "/更正 99999999999999999999 新", None, "请这样写"),
    ("correct visit zero", VOLUNTEER, "/更正 0 新情况", None, "请这样写"),
    ("correct a missing visit", VOLUNTEER, "/更正 5 新情况", None, "没有找到这条走访记录"),
    ("correct with no visit yet", VOLUNTEER, "/更正 新情况", None, "还没有走访记录"),
    ("correct with 5000 characters", VOLUNTEER, "/更正 " + "很" * 5000, None, "消息太长"),
    ("visit dated 2099-13-45", VOLUNTEER, "/走访 张三 2099-13-45 看望", None, "不存在"),
    ("visit dated 13月45日", VOLUNTEER, "/走访 张三 13月45日 看望", None, "不存在"),
    ("visit dated 2026-02-30", VOLUNTEER, "/走访 张三 2026-02-30 看望", None, "不存在"),
    ("visit dated 0-0", VOLUNTEER, "/走访 张三 0-0 看望", None, "不存在"),
    ("start with a path", STRANGER, "/start ../../etc/passwd", None, "邀请码不对"),
    ("start with a 500-character code", STRANGER, "/start " + "x" * 500, None, "邀请码不对"),
    ("stranger solves", STRANGER, "/当场解决 1 好了", None, "邀请码"),
    ("stranger closes", STRANGER, "/销号 1", None, "邀请码"),
    ("stranger corrects", STRANGER, "/更正 新情况", None, "邀请码"),
    ("stranger pages", STRANGER, "/我的 2", None, "邀请码"),
    ("stranger invites", STRANGER, "/邀请 admin", None, "邀请码"),
    ("village admin invites an admin", ADMIN, "/邀请 admin", None, "村级管理员只能"),
    ("empty button", VOLUNTEER, None, "", "看不懂"),
    ("button of one letter", VOLUNTEER, None, "p", "看不懂"),
    ("button missing its version", VOLUNTEER, None, "p:1:escalate", "看不懂"),
    ("button with a 20-digit id", VOLUNTEER, None, "p:99999999999999999999:escalate:1", "看不懂"),
    ("button with a superscript id", VOLUNTEER, None, "p:²:escalate:1", "看不懂"),
    ("button with a superscript version", VOLUNTEER, None, "p:1:escalate:²", "看不懂"),
    ("button with an Arabic-Indic id", VOLUNTEER, None, "p:١:escalate:1", "看不懂"),
    ("button with a negative id", VOLUNTEER, None, "p:-1:escalate:1", "看不懂"),
    ("button with an unknown action", VOLUNTEER, None, "p:1:drop_table:1", "看不懂"),
    ("household button with 20 digits", VOLUNTEER, None, "vf:h:99999999999999999999", "看不懂"),
    ("household button with letters", VOLUNTEER, None, "vf:h:abc", "看不懂"),
    ("household button of another village", VOLUNTEER, None, "vf:h:4", "看不懂"),
    ("form save with no form", VOLUNTEER, None, "vf:ok", "已经结束"),
    ("form no-problem with no form", VOLUNTEER, None, "vf:noproblem", "已经结束"),
    ("button of 64 x", VOLUNTEER, None, "x" * 64, "看不懂"),
    ("button pressed by a stranger", STRANGER, None, "p:1:escalate:1", "邀请码"),
    ("button for a missing problem", VOLUNTEER, None, "p:999:escalate:1", "没有找到编号 999"),
    ("stale button", VOLUNTEER, None, "p:1:escalate:7", "请看最新情况"),
    ("close button before follow-up", ADMIN, None, "p:1:close:1", "回访以后才能销号"),
    ("follow-up button before resolution", VOLUNTEER, None, "p:1:fu0:1", "办结以后才能回访"),
    ("solve button on another's problem", OTHER_VOLUNTEER, None, "p:1:solve_on_spot:1", "没有找到"),
]


@pytest.fixture
def h(tmp_path):
    harness = village_bot(tmp_path)  # no answerer: a case that reached it would fail loudly
    return harness


@pytest.mark.parametrize(
    ("case", "sender", "text", "data", "expected"), CASES, ids=[c[0] for c in CASES]
)
async def test_item13_hostile_input_gets_a_chinese_reply_and_stores_nothing(
    h, caplog, case, sender, text, data, expected
):
    await h.send("/问题 张三 屋顶漏雨", user_id=VOLUNTEER)  # problem #1, version 1
    before = counts(h)
    with caplog.at_level(logging.ERROR):
        if data is None:
            replies = await h.send(text, user_id=sender)
        else:
            replies = await h.press(data, user_id=sender, message_id=900)
    said = "\n".join(replies)
    assert replies, case
    assert expected in said, (case, replies)
    assert texts.ERROR not in said and "Traceback" not in said and "Error" not in said
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], case
    assert before == counts(h), case


async def test_item13_an_exception_in_a_handler_is_answered_and_logged(h, caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(h.v.ledger, "problem_page", broken)
    monkeypatch.setattr(h.v.ledger, "move", broken)
    await h.send("/问题 张三 屋顶漏雨", user_id=VOLUNTEER)
    with caplog.at_level(logging.ERROR):
        typed = await h.send("/我的", user_id=VOLUNTEER)
        pressed = await h.press("p:1:escalate:1", user_id=VOLUNTEER, message_id=5)
    assert [texts.ERROR] == typed
    assert [f"[提示]{texts.ERROR}"] == pressed
    logged = [r for r in caplog.records if r.name == "bot.handlers.errors"]
    assert 2 == len(logged) and "disk on fire" in str(logged[0].exc_info[1])


def test_item15_a_key_of_someone_else_is_refused_not_replayed(tmp_path):
    h = village_bot(tmp_path)
    v = h.v
    v.ledger.log_visit_text(v.volunteer, "张三 腿疼 #问题 要轮椅", "console:1:7")
    with pytest.raises(Conflict, match="重复") as clash:
        v.ledger.log_visit_text(v.other_volunteer, "王五 挺好", "console:1:7")
    assert "张三" not in str(clash.value)  # the other volunteer's household is not named
    with pytest.raises(Conflict, match="重复"):
        v.ledger.open_problem(v.other_volunteer, v.wang.id, "漏雨", "console:1:7:problem")
    v.ledger.escalate(v.volunteer, 1, "cb:1:9")
    with pytest.raises(Conflict, match="重复"):
        v.ledger.escalate(v.village_admin, 1, "cb:1:9")
    assert (1, 1, 1) == counts(h)


def test_item15_two_console_sessions_never_share_a_key(tmp_path, monkeypatch):
    from bot import console
    from bot.search.keyword import KeywordIndex

    # only ledger lines are typed: skip building the policy index (slow, and not under test)
    monkeypatch.setattr(KeywordIndex, "exists", staticmethod(lambda path: True))
    monkeypatch.setattr(console.Answerer, "from_settings", staticmethod(lambda s: None))
    run_console = console.run_console

    settings = load_settings(tmp_path)
    ledger = LedgerService.open(settings)
    one = ledger.add_member("刘党员", "volunteer", "东村", "一组")
    two = ledger.add_member("陈党员", "volunteer", "东村", "二组")
    ledger.add_household("东村", "张三", "一组", "12号", 3, "", (), one)
    ledger.add_household("东村", "王五", "二组", "21号", 3, "", (), two)
    ledger.close_db()
    outs: list[str] = []

    def session(name: str, head: str) -> None:
        out = io.StringIO()
        lines = [f"/走访 {head} 第{i}次" for i in range(20)]
        run_console(settings, lines=lines, out=out, as_name=name)
        outs.append(out.getvalue())

    # at the same time, as in the report: the old keys (chat 1, clock-derived ids) collided
    threads = [
        threading.Thread(target=session, args=pair)
        for pair in (("刘党员", "张三"), ("陈党员", "王五"), ("刘党员", "张三"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 3 == len(outs)
    assert not any("已经记过了" in out for out in outs)
    ledger = LedgerService.open(settings)
    total, keys = ledger.db.execute(
        "SELECT count(*), count(DISTINCT client_key) FROM visits"
    ).fetchone()
    assert (60, 60) == (total, keys)


def test_item20_impossible_dates_are_refused_not_kept_as_text(tmp_path):
    from bot.services.visit_parser import ParseError, parse_visit

    today = LedgerService.open(load_settings(tmp_path)).today()
    for text in (
        "张三 2099-13-45 看望",
        "张三 13月45日 看望",
        "张三 2-30 看望",
        "张三 2026/02/30 看望",
    ):
        with pytest.raises(ParseError, match="不存在"):
            parse_visit(text, today)
    assert "看望" == parse_visit("张三 11-20 看望", today.replace(month=12)).situation
