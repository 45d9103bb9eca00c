"""Issue #10 items 6–9 through the real Dispatcher: a volunteer sees their own households'
phones, local figures reach chat users by village → township → county, invites ask for the
village, refuse a role the roster contradicts and confirm before creating, and a household
lookup lists numbered candidates."""

from __future__ import annotations

import pytest
from ledger_bot_support import (
    ADMIN,
    GRID,
    OTHER_VOLUNTEER,
    TOWNSHIP,
    VOLUNTEER,
    buttons,
    counts,
    village_bot,
)
from typer.testing import CliRunner

from bot import cli
from bot.config import load_settings
from bot.services.answer import Answerer
from ingest.pipeline import ingest


@pytest.fixture
def h(tmp_path):
    return village_bot(tmp_path)


async def test_item6_volunteer_sees_own_households_phones_in_full(h):
    own = await h.send("/户 张三", user_id=VOLUNTEER)
    assert "电话 13912345678" in own[0]
    grid = await h.send("/户 张三", user_id=GRID)  # grid leader: not in phone_visible_roles
    assert "电话 139****5678" in grid[0] and "13912345678" not in grid[0]
    assert "13912345678" in (await h.send("/户 张三", user_id=ADMIN))[0]
    assert "没有“张三”" in (await h.send("/户 张三", user_id=OTHER_VOLUNTEER))[0]


async def test_item9_visit_lookup_lists_numbered_candidates_and_a_pick_logs_the_line(h):
    v = h.v
    v.ledger.add_household("东村", "张山山", "一组", "15号", 1, "", (), v.volunteer)
    replies = await h.send("/走访 张 腿疼 #问题 要轮椅", user_id=VOLUNTEER, message_id=300)
    assert "有 2 户都像“张”，请选一户" in replies[0]
    assert "户1  东村张三家（12号）" in replies[0] and "户5  东村张山山家（15号）" in replies[0]
    assert "/走访 户1" in replies[0]
    assert (0, 0, 0) == counts(h)
    pick = buttons(h.last_markup())["东村张山山家（15号）"]
    done = await h.press(pick, user_id=VOLUNTEER, message_id=301)
    assert "已记走访：东村张山山家" in done[-1] and "登记了问题 #1" in done[-1]
    again = await h.send("/走访 张 腿疼 #问题 要轮椅", user_id=VOLUNTEER, message_id=300)
    assert "已经记过了（东村张山山家（15号））" in again[0]  # a redelivered line: its key
    assert (1, 1, 0) == counts(h)


async def test_item9_household_lookup_shows_a_screenful_and_says_how_to_narrow(h):
    v = h.v
    for i in range(20):
        v.ledger.add_household("东村", "王建国", "一组", f"{30 + i}号", 1, "", (), v.volunteer)
    replies = await h.send("/户 王建国", user_id=VOLUNTEER)
    lines = replies[0].splitlines()
    assert "有 20 户都像“王建国”" in lines[0]
    assert 10 == sum(line.startswith("户") for line in lines)
    assert "还有 10 户没列出" in replies[0] and "/户 户5 看这一户" in replies[0]
    one = await h.send("/户 王建国 31号", user_id=VOLUNTEER)
    assert "东村王建国家（31号） 户号6" in one[0]


async def test_item8_invites_ask_for_the_village_refuse_role_mismatch_and_confirm(h):
    missing = await h.send("/邀请 volunteer 一组 张新党员", user_id=TOWNSHIP)
    assert "请写上是哪个村的" in missing[0] and "/邀请 volunteer 东山村 一组 张新党员" in missing[0]
    mismatch = await h.send("/邀请 volunteer 东村 一组 赵网格", user_id=TOWNSHIP)
    assert "花名册里东村的赵网格是网格长，不是联户党员" in mismatch[0]
    assert "/邀请 grid_leader 东村 赵网格" in mismatch[0]
    ask = await h.send("/邀请 volunteer 东村 一组 张新党员", user_id=TOWNSHIP)
    assert "花名册里东村没有“张新党员”" in ask[0] and "确认新建吗" in ask[0]
    invites = "SELECT count(*) FROM invites"
    assert 0 == h.v.ledger.db.execute(invites).fetchone()[0]  # nothing until confirmed
    made = await h.press(buttons(h.last_markup())["确认新建并生成邀请码"], user_id=TOWNSHIP)
    code = next(r for r in made if "邀请码：" in r).split("邀请码：")[1].split("（")[0]
    assert "东村一组" in next(r for r in made if "邀请码：" in r)
    joined = await h.send(f"/start {code}", user_id=777)
    assert "绑定成功：张新党员，联户党员，东村" in joined[0]
    # a roster member is bound with the roster's role, without asking
    h.v.ledger.add_member("钱网格", "grid_leader", "东村", "二组")
    roster = await h.send("/邀请 grid_leader 钱网格", user_id=ADMIN)  # a village admin: own village
    code = roster[0].split("邀请码：")[1].split("（")[0]
    assert "绑定成功：钱网格，网格长，东村" in (await h.send(f"/start {code}", user_id=778))[0]
    # one already bound on this channel is told so (it used to end in a UNIQUE error)
    code = (await h.send("/邀请 grid_leader 赵网格", user_id=ADMIN))[0]
    code = code.split("邀请码：")[1].split("（")[0]
    assert "已经绑定过账号了" in (await h.send(f"/start {code}", user_id=779))[0]
    # typed confirmation works too, and /取消 drops it
    await h.send("/邀请 volunteer 李新党员", user_id=ADMIN)
    assert "已取消" in (await h.send("/取消", user_id=ADMIN))[0]
    await h.send("/邀请 volunteer 李新党员", user_id=ADMIN)
    assert "邀请码：" in (await h.send("确认", user_id=ADMIN))[0]
    assert 4 == h.v.ledger.db.execute(invites).fetchone()[0]


def test_item8_redeem_refuses_a_role_the_roster_no_longer_has(tmp_path):
    h = village_bot(tmp_path)
    v = h.v
    code = v.ledger.create_invite(v.village_admin, "grid_leader", name="赵网格")
    v.ledger.db.execute("UPDATE members SET role='volunteer' WHERE name='赵网格'")
    with pytest.raises(Exception, match="和邀请码不一致"):
        v.ledger.redeem_invite(code, 779, "赵")


@pytest.fixture(scope="module")
def county_answerer(tmp_path_factory):
    import os

    os.environ["LIANHU_EMBEDDINGS__BACKEND"] = "none"  # keyword ranking: fast, and enough here
    try:
        settings = load_settings(tmp_path_factory.mktemp("answers"))
        ingest(settings, [])
        return Answerer.from_settings(settings, use_llm=False)
    finally:
        del os.environ["LIANHU_EMBEDDINGS__BACKEND"]


async def test_item7_local_figures_reach_a_member_through_village_township_county(
    tmp_path, county_answerer, monkeypatch
):
    monkeypatch.setenv("LIANHU_LEDGER__TOWNSHIP", "青石镇")
    monkeypatch.setenv("LIANHU_LEDGER__COUNTY", "示例县")
    h = village_bot(tmp_path, answerer=county_answerer)
    assert "示例县" == h.v.ledger.settings.ledger.county
    replies = await h.send("今年农村低保标准一个月多少钱", user_id=VOLUNTEER)  # a member of 东村
    assert "示例县2026年农村低保标准" in "\n".join(replies)
    monkeypatch.delenv("LIANHU_LEDGER__COUNTY")
    h = village_bot(tmp_path / "no-county", answerer=county_answerer)
    replies = await h.send("今年农村低保标准一个月多少钱", user_id=VOLUNTEER)
    assert "各地不同" in "\n".join(replies)


def test_item7_chat_region_option(tmp_path, monkeypatch):
    monkeypatch.setenv("LIANHU_EMBEDDINGS__BACKEND", "none")
    cli._register_all()
    data = ["--data-dir", str(tmp_path)]
    question = "今年农村低保标准一个月多少钱\n"
    result = CliRunner().invoke(cli.app, ["chat", "--region", "示例县", *data], input=question)
    assert 0 == result.exit_code, result.output
    assert "示例县2026年农村低保标准" in result.output
    result = CliRunner().invoke(cli.app, ["chat", *data], input=question)
    assert "各地不同" in result.output
