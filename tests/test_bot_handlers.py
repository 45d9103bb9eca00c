"""Handlers through a real Dispatcher with real Updates: conversations and a bad-input battery."""

from __future__ import annotations

import pytest
from bot_support import Harness
from ledger_support import make_village

from bot.services.answer import Answerer
from ingest.pipeline import ingest

VOLUNTEER, ADMIN, STRANGER, TOWNSHIP = 11, 22, 99, 33


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    from bot.config import load_settings

    settings = load_settings(tmp_path_factory.mktemp("answers"))
    ingest(settings, [])  # the bundled cards only, as on a fresh install
    return Answerer.from_settings(settings, use_llm=False)


@pytest.fixture
def h(tmp_path, answerer):
    v = make_village(tmp_path)
    from bot.ledger import members as members_db

    members_db.bind_telegram(v.ledger.db, v.volunteer.id, VOLUNTEER)
    members_db.bind_telegram(v.ledger.db, v.village_admin.id, ADMIN)
    members_db.bind_telegram(v.ledger.db, v.township.id, TOWNSHIP)
    harness = Harness(v.ledger.settings, answerer, v.ledger)
    harness.v = v
    return harness


def counts(h) -> tuple[int, int, int]:
    return h.v.ledger.db.execute(
        "SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM problems), (SELECT count(*) FROM problem_events)"
    ).fetchone()


async def test_policy_question_in_plain_text(h):
    replies = await h.send("家里穷，能吃低保不", user_id=STRANGER)
    assert "社会救助暂行办法》第九条" in replies[0]


async def test_visit_one_line_with_problem_then_buttons(h):
    replies = await h.send(
        "/走访 张三 腿疼，需要轮椅 #问题 申请残疾人证", user_id=VOLUNTEER, message_id=7
    )
    assert "已记走访：东村张三家" in replies[0] and "登记了问题 #1" in replies[0]
    assert (1, 1, 0) == counts(h)
    again = await h.send(
        "/走访 张三 腿疼，需要轮椅 #问题 申请残疾人证", user_id=VOLUNTEER, message_id=7
    )
    assert "已经记过了" in again[0]
    assert (1, 1, 0) == counts(h)  # a redelivered update stores nothing new
    markup = h.last_markup()
    escalate = next(
        b.callback_data for row in markup.inline_keyboard for b in row if b.text == "上报村级"
    )
    first = await h.press(escalate, user_id=VOLUNTEER, message_id=50)
    second = await h.press(escalate, user_id=VOLUNTEER, message_id=50)  # a double tap
    assert "已上报村级" in first[0]
    assert "已经办过了" in second[0]
    assert (1, 1, 1) == counts(h)


async def test_guided_form_and_cancel(h):
    replies = await h.send("/走访", user_id=VOLUNTEER)
    assert "请选要记走访的农户" in replies[0]
    household = h.last_markup().inline_keyboard[0][0].callback_data
    assert "请写走访情况" in (await h.press(household, user_id=VOLUNTEER))[-1]
    assert "有没有需要登记的问题" in (await h.send("身体还行", user_id=VOLUNTEER))[0]
    assert "请确认" in (await h.send("屋顶漏雨", user_id=VOLUNTEER))[0]
    done = await h.press("vf:ok", user_id=VOLUNTEER, message_id=60)
    assert any("已记走访" in r for r in done)
    assert (1, 1, 0) == counts(h)
    await h.send("/走访", user_id=VOLUNTEER)
    assert "已取消" in (await h.send("/取消", user_id=VOLUNTEER))[0]
    assert "已经结束" in (await h.press("vf:ok", user_id=VOLUNTEER))[0]
    assert (1, 1, 0) == counts(h)


async def test_resolve_followup_and_coordinator_reports(h):
    await h.send("/问题 张三 屋顶漏雨", user_id=VOLUNTEER)
    await h.send("/上报 1", user_id=VOLUNTEER)
    assert "村级管理员办结" in (await h.send("/办结 1 自己修了", user_id=VOLUNTEER))[0]
    assert "已办结" in (await h.send("/办结 1 已联系维修", user_id=ADMIN))[0]
    assert "已回访" in (await h.send("/回访 1 满意", user_id=VOLUNTEER))[0]
    assert "只有村级、乡镇管理员" in (await h.send("/周报", user_id=VOLUNTEER))[0]
    digest = await h.send("/周报", user_id=ADMIN)
    assert "民情周报" in digest[0] and "[图片]" in digest
    assert "[文件]" in await h.send("/导出", user_id=ADMIN)
    assert "确认新建吗" in (await h.send("/邀请 volunteer 一组", user_id=ADMIN))[0]
    invite = await h.send("确认", user_id=ADMIN)
    code = invite[0].split("邀请码：")[1].split("（")[0]
    assert "绑定成功" in (await h.send(f"/start {code}", user_id=555))[0]


async def test_location_and_photo_attach_to_the_last_visit(h):
    await h.send("/走访 李四 挺好", user_id=VOLUNTEER)
    assert (
        "位置已附"
        in (await h.send(None, user_id=VOLUNTEER, location={"latitude": 30.1, "longitude": 120.2}))[
            0
        ]
    )
    photo = [{"file_id": "ph1", "file_unique_id": "u1", "width": 10, "height": 10}]
    assert "照片已附" in (await h.send(None, user_id=VOLUNTEER, photo=photo))[0]
    row = h.v.ledger.db.execute("SELECT location, photos FROM visits").fetchone()
    assert ("30.10000,120.20000", '["ph1"]') == row


BAD_INPUTS = [
    ("empty command", "/", "没有这个命令"),
    ("unknown command", "/飞机", "没有这个命令"),
    ("unknown latin command", "/foo bar", "没有这个命令"),
    ("ask without text", "/问", "请在 /问 后面写上问题"),
    ("visit for an unknown household", "/走访 赵六 挺好", "没有“赵六”"),
    ("visit for another volunteer's household", "/走访 王五 挺好", "没有“王五”"),
    ("visit with only a marker", "/走访 #问题", "请这样写"),
    ("visit dated in the future", "/走访 张三 2099-01-01 看望", "还没到"),
    ("visit with an impossible date", "/走访 张三 2-30 看望", "不存在"),
    ("visit with a 5000-character note", "/走访 张三 " + "很" * 5000, "消息太长"),
    ("question of 5000 characters", "低保" * 2500, "消息太长"),
    ("emoji only", "😀😀😀", "比如"),
    ("issue without description", "/问题 张三", "请这样写"),
    ("issue for unknown household", "/问题 赵六 漏雨", "没有“赵六”"),
    ("resolve without a number", "/办结 张三", "请这样写"),
    ("resolve an unknown problem", "/办结 999 好了", "没有找到编号 999"),
    ("resolve without a result", "/办结 1", "请写上办理结果"),
    ("escalate with letters", "/上报 abc", "请这样写"),
    ("follow-up with a wrong verdict", "/回访 1 还行", "满意、基本满意"),
    ("follow-up before resolution", "/回访 1 满意", "办结以后才能回访"),
    ("close by button before follow-up", None, "回访以后才能销号"),
    ("cancel with nothing open", "/取消", "没有正在填写"),
    ("digest by a volunteer", "/周报", "只有村级、乡镇管理员"),
    ("export by a volunteer", "/导出", "只有村级、乡镇管理员"),
    ("invite by a volunteer", "/邀请 volunteer", "只有村级、乡镇管理员可以发邀请码"),
    ("start with a wrong code", "/start NOPE123", "邀请码不对"),
    ("digest with a bad week", "/周报 第47周", "只有村级"),
    ("household not found", "/户 赵六", "没有“赵六”"),
    ("full-width slash command", "／走访 张三 挺好", "已记走访"),
    ("command with our @name", "/走访@lianhu_bot 张三 挺好", "已记走访"),
    ("traditional characters question", "家裡窮，能吃低保嗎", "第九条"),
    ("ID number in a note", "/走访 张三 身份证110105194912310021", "已自动打码"),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
async def test_bad_input_gets_a_clear_chinese_reply(h, case, text, expected):
    await h.send(
        "/问题 张三 屋顶漏雨", user_id=VOLUNTEER
    )  # problem #1 exists for the problem cases
    before = counts(h)
    if text is None:
        replies = await h.press("p:1:close:1", user_id=ADMIN)
    else:
        replies = await h.send(text, user_id=VOLUNTEER)
    assert replies, case
    assert expected in "\n".join(replies), (case, replies)
    if expected not in ("已记走访", "已自动打码"):
        assert before == counts(h), case  # nothing stored


async def test_ledger_commands_need_registration(h):
    for text in ("/走访 张三 挺好", "/问题 张三 漏雨", "/我的", "/待走访", "/周报", "/户"):
        assert "邀请码" in (await h.send(text, user_id=STRANGER))[0], text
    assert (0, 0, 0) == counts(h)


async def test_forged_and_stale_buttons(h):
    await h.send("/问题 张三 屋顶漏雨", user_id=VOLUNTEER)
    assert "看不懂" in (await h.press("p:1:delete:1", user_id=VOLUNTEER))[0]
    assert "看不懂" in (await h.press("p:x:close:y", user_id=VOLUNTEER))[0]
    assert "邀请码" in (await h.press("p:1:escalate:1", user_id=STRANGER))[0]  # not registered
    await h.press("p:1:escalate:1", user_id=VOLUNTEER, message_id=9)
    stale = await h.press(
        "p:1:escalate:1", user_id=ADMIN, message_id=10
    )  # an old button, another person
    assert "刚刚处理过" in stale[0]
    assert (0, 1, 1) == counts(h)


async def test_group_chat_answers_only_commands_and_mentions(h):
    assert [] == await h.send("家里穷能吃低保不", user_id=VOLUNTEER, chat_type="group")
    assert [] == await h.send("/走访@other_bot 张三 挺好", user_id=VOLUNTEER, chat_type="group")
    mention = await h.send("@lianhu_bot 家里穷能吃低保不", user_id=VOLUNTEER, chat_type="group")
    assert "第九条" in mention[0]


async def test_voice_gets_a_text_please(h):
    voice = {"file_id": "v1", "file_unique_id": "v1", "duration": 3}
    assert "请打字" in (await h.send(None, user_id=VOLUNTEER, voice=voice))[0]


async def test_long_answers_are_split_and_escaped(h):
    from bot.handlers.common import split_message

    pieces = split_message("<b>" + "字" * 9000)
    assert all(len(p) <= 3000 for p in pieces) and "".join(pieces) == "<b>" + "字" * 9000
    replies = await h.send("/户", user_id=ADMIN)
    assert all(len(r) <= 4096 for r in replies)


def test_help_is_built_from_the_command_table():
    from bot import texts

    text = texts.help_text()
    for command in texts.COMMANDS:
        assert f"/{command.name}" in text
        for alias in command.aliases:
            assert f"/{alias}" in text
    from bot.app import menu

    assert all(c.command.isascii() and c.command.islower() for c in menu())
