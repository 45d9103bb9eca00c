"""The WeCom channel in process: the real long-connection client, the real Dispatcher and ledger,
against the fake WeCom server on 127.0.0.1 (the end-to-end runs are in test_wecom_e2e.py)."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest
from fake_wecom import FakeWeCom, text_of
from ledger_support import make_village

from bot.app import build_dispatcher
from bot.channels.notifier import deliver
from bot.channels.wecom import frames
from bot.channels.wecom.client import WeComClient
from bot.channels.wecom.connection import WeComConnection
from bot.channels.wecom.notifier import WeComNotifier
from bot.channels.wecom.runner import start_wecom
from bot.config import WeComSettings
from bot.ledger import identities
from bot.services.answer import Answerer
from ingest.pipeline import ingest

LIU, SUN = "LiuDangYuan", "SunShuJi"  # WeCom userids of the volunteer and the village admin


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    from bot.config import load_settings

    settings = load_settings(tmp_path_factory.mktemp("answers"))
    ingest(settings, [])
    return Answerer.from_settings(settings, use_llm=False)


@pytest.fixture
async def wecom(tmp_path, answerer):
    fake = FakeWeCom()
    url = await fake.start()
    v = make_village(tmp_path)
    identities.bind(v.ledger.db, v.volunteer.id, "wecom", LIU)
    identities.bind(v.ledger.db, v.village_admin.id, "wecom", SUN)
    settings = v.ledger.settings.model_copy(
        update={
            "wecom": WeComSettings(
                bot_id=fake.bot_id, secret=fake.secret, ws_url=url, heartbeat_s=0.3
            )
        }
    )
    dp = build_dispatcher(settings, answerer, v.ledger)
    channel = start_wecom(settings, dp, v.ledger)
    await fake.wait_connected()
    fake.v, fake.channel = v, channel
    yield fake
    await channel.stop()
    await fake.stop()
    assert [] == fake.errors  # nothing the bot sent broke WeCom's documented rules


async def test_wecom_guided_visit_form_through_card_buttons_and_a_typed_number(wecom):
    await wecom.say(LIU, "/走访")
    await wecom.wait_for(lambda f: f["body"].get("msgtype") == "template_card")
    card = wecom.cards_to(LIU)[-1]
    zhang = next(b for b in card["button_list"] if "张三" in b["text"])
    await wecom.press(LIU, card["task_id"], zhang["key"])
    await wecom.wait_said(LIU, "请写走访情况")
    await wecom.say(LIU, "身体还行，想了解医保报销")
    await wecom.wait_said(LIU, "没有问题")
    seen = len(wecom.said_to(LIU))
    await wecom.say(LIU, "1")  # the only button of the last card: 没有问题
    await wecom.wait_said(LIU, "请确认", after=seen)
    confirm = wecom.cards_to(LIU)[-1]
    await wecom.press(LIU, confirm["task_id"], confirm["button_list"][0]["key"])
    await wecom.wait_said(LIU, "已记走访：东村张三家")
    rows = wecom.v.ledger.db.execute("SELECT situation, client_key FROM visits").fetchall()
    assert 1 == len(rows) and "医保" in rows[0][0]


async def test_wecom_more_than_six_buttons_become_a_numbered_list(wecom):
    v = wecom.v
    for i in range(7):
        v.ledger.add_household("东村", f"新户{i}", "一组", f"{30 + i}号", 1, "", (), v.volunteer)
    await wecom.say(LIU, "/走访")
    listing = await wecom.wait_said(LIU, "回复编号即可选择")
    assert "9. 东村新户6家" in listing  # 张三, 李四 and seven new households, numbered
    await wecom.say(LIU, "按3")
    await wecom.wait_said(LIU, "东村新户0家（30号）：请写走访情况")


async def test_wecom_one_reply_on_the_req_id_the_rest_pushed_each_under_the_limits(wecom):
    await wecom.say(LIU, "/帮助")
    await wecom.wait_said(LIU, "直接打字发问题")
    said = wecom.said_to(LIU)
    replies = [f for f in wecom.frames if f["cmd"] == "aibot_respond_msg"]
    assert 1 == len(replies) and "stream" == replies[0]["body"]["msgtype"]
    assert all(len(text_of(b).encode()) <= frames.TEXT_PIECE_BYTES for b in said)


async def test_wecom_group_mention_and_pictures(wecom):
    await wecom.say(LIU, "@联户助手 家里穷，能吃低保不", group="wrGroup1")
    answer = await wecom.wait_for(lambda f: f["cmd"] == "aibot_respond_msg")
    assert "第九条" in text_of(answer[0]["body"])
    await wecom.send_image(LIU)
    await wecom.wait_said(LIU, "图片和文件请用文字说一说")


async def test_wecom_enter_chat_is_welcomed_by_name(wecom):
    await wecom.enter_chat(SUN)
    welcome = await wecom.wait_for(lambda f: f["cmd"] == "aibot_respond_welcome_msg")
    assert "孙书记您好" in welcome[0]["body"]["text"]["content"]


async def test_wecom_dead_connection_is_detected_by_heartbeat_and_reopened(wecom):
    wecom.answer_pings = False  # the network swallowed the connection without closing it
    deadline = asyncio.get_running_loop().time() + 20
    while wecom.subscriptions < 2:
        assert asyncio.get_running_loop().time() < deadline, "no reconnection"
        await asyncio.sleep(0.1)
    wecom.answer_pings = True
    await wecom.say(LIU, "/帮助")
    await wecom.wait_said(LIU, "直接打字发问题")


async def test_wecom_upload_sends_chunks_of_at_most_512_kb_that_add_up(wecom):
    data = os.urandom(1_200_000)  # three chunks
    await WeComNotifier(WeComClient(wecom.channel.connection)).send_file(SUN, data, "台账.xlsx")
    chunks = [f for f in wecom.frames if f["cmd"] == "aibot_upload_media_chunk"]
    assert [0, 1, 2] == [c["body"]["chunk_index"] for c in chunks]
    (media,) = wecom.media.values()
    assert (data, "file", "台账.xlsx") == (media["data"], media["type"], media["filename"])
    push = wecom.frames[-1]["body"]
    assert {"chatid": SUN, "chat_type": 1, "msgtype": "file"} == {
        k: push[k] for k in ("chatid", "chat_type", "msgtype")
    }


async def test_wecom_refusals_in_one_vocabulary_rate_limit_waits_gone_user_is_blocked(wecom):
    notifier = WeComNotifier(WeComClient(wecom.channel.connection))
    db = wecom.v.ledger.db
    slept = []

    async def sleep(seconds):
        slept.append(seconds)

    wecom.refuse["aibot_send_msg"] = 45009  # frequency limit: wait, then it goes through
    assert await deliver(db, "wecom", SUN, lambda: notifier.send_text(SUN, "周报"), sleep=sleep)
    assert [60.0] == slept
    wecom.refuse["aibot_send_msg"] = 60111  # the userid no longer exists
    assert not await deliver(db, "wecom", "left", lambda: notifier.send_text("left", "x"))
    assert identities.is_blocked(db, "wecom", "left")
    sent = len(wecom.frames)
    assert not await deliver(db, "wecom", "left", lambda: notifier.send_text("left", "x"))
    assert sent == len(wecom.frames)  # a blocked address is not tried again


async def test_wecom_wrong_secret_is_reported_and_nothing_is_sent(caplog):
    fake = FakeWeCom()
    url = await fake.start()
    connection = WeComConnection(fake.bot_id, "wrong", url)
    task = asyncio.create_task(connection.run_forever())
    try:
        with caplog.at_level(logging.ERROR):
            for _ in range(100):
                if "认证失败" in caplog.text:
                    break
                await asyncio.sleep(0.05)
        assert "LIANHU_WECOM__SECRET" in caplog.text
        assert not connection.ready.is_set()
    finally:
        await connection.stop()
        task.cancel()
        await fake.stop()
