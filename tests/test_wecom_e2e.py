"""End to end: the real `lianhu run` process against the fake WeCom server on 127.0.0.1, alone and
beside the fake Telegram Bot API (one member using both channels against one ledger)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram
from fake_wecom import FakeWeCom

from bot.config import load_settings
from bot.ledger import identities
from bot.services.ledger_service import LedgerService

LIU, SUN = "LiuDangYuan", "SunShuJi"  # WeCom userids: a volunteer, the village admin
ADMIN, VOLUNTEER = 22, 11  # Telegram ids


def _seed(data_dir: Path, sun_on_telegram: bool = False) -> None:
    ledger = LedgerService.open(load_settings(data_dir))
    volunteer = ledger.add_member("刘党员", "volunteer", "东村", "一组")
    sun = ledger.add_member(
        "孙书记", "village_coordinator", "东村", telegram_id=ADMIN if sun_on_telegram else None
    )
    identities.bind(ledger.db, sun.id, "wecom", SUN)
    ledger.add_household("东村", "张三", "一组", "12号", 3, "", ("低保户",), volunteer)
    ledger.close_db()


async def _start(data_dir: Path, wecom_url: str, telegram_base: str | None = None):
    env = {
        **os.environ,
        "LIANHU_DATA_DIR": str(data_dir),
        "LIANHU_WECOM__BOT_ID": "bot-1",
        "LIANHU_WECOM__SECRET": "s3cret",
        "LIANHU_WECOM__WS_URL": wecom_url,
    }
    env.pop("LIANHU_BOT__TOKEN", None)
    if telegram_base:
        env.update({"LIANHU_BOT__TOKEN": "123456:TEST", "LIANHU_BOT__API_BASE": telegram_base})
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(process) -> str:
    process.terminate()
    try:
        _, err = await asyncio.wait_for(process.communicate(), 30)
    except TimeoutError:
        process.kill()
        _, err = await process.communicate()
    return err.decode(errors="replace")


def _button(card: dict, label: str) -> dict:
    return next(b for b in card["button_list"] if label in b["text"])


def _card_with(fake: FakeWeCom, userid: str, label: str) -> dict:
    """The last card sent to `userid` that has a button saying `label`."""
    return next(
        c
        for c in reversed(fake.cards_to(userid))
        if any(label in b["text"] for b in c["button_list"])
    )


@pytest.mark.e2e
async def test_wecom_e2e_register_ask_visit_buttons_escalate_resolve_followup_digest_reconnect(
    tmp_path,
):
    data_dir = tmp_path / "data"
    _seed(data_dir)
    fake = FakeWeCom()
    process = await _start(data_dir, await fake.start())
    log = ""
    try:
        await fake.wait_connected(timeout=120)
        assert 1 == fake.subscriptions  # aibot_subscribe with the bot id and secret

        # the digest missed while the bot was down goes out at start, with its chart
        await fake.wait_said(SUN, "民情周报", timeout=60)
        (image,) = await fake.wait_for(
            lambda f: f["cmd"] == "aibot_send_msg" and f["body"]["msgtype"] == "image"
        )
        assert SUN == image["body"]["chatid"]
        chart = fake.media[image["body"]["image"]["media_id"]]
        assert chart["data"].startswith(b"\x89PNG") and "image" == chart["type"]

        await fake.say(SUN, "/邀请 volunteer 一组 刘党员")
        made = await fake.wait_said(SUN, "邀请码：")
        assert "t.me" not in made  # no Telegram link in WeCom
        code = made.split("邀请码：")[1].split("（")[0]
        await fake.say(LIU, f"/start {code}")
        await fake.wait_said(LIU, "绑定成功：刘党员")

        await fake.say(LIU, "家里穷，能吃低保不")
        assert "第九条" in await fake.wait_said(LIU, "依据")

        visit = "/走访 张三 腿疼，需要轮椅 #问题 申请残疾人证"
        await fake.say(LIU, visit, msgid="visit-1")
        confirmation = await fake.wait_said(LIU, "已记走访")
        assert "问题 #1" in confirmation
        seen = len(fake.said_to(LIU))
        redelivered = next(r for r, c in fake.callbacks.items() if c["body"]["msgid"] == "visit-1")
        await fake.redeliver(redelivered)  # the same msgid again
        await fake.wait_said(LIU, "已经记过了", after=seen)

        card = _card_with(fake, LIU, "上报")
        escalate = _button(card, "上报")
        seen = len(fake.said_to(LIU))
        await fake.press(LIU, card["task_id"], escalate["key"])
        await fake.wait_said(LIU, "已上报村级", after=seen)
        seen = len(fake.said_to(LIU))
        await fake.press(LIU, card["task_id"], escalate["key"])  # pressed twice
        await fake.wait_said(LIU, "已经办过了", after=seen)

        await fake.say(SUN, "/办结 1 已帮助申请残疾人证")
        await fake.wait_said(SUN, "已办结")

        await fake.drop()  # the network drops the connection: the bot comes back by itself
        await fake.wait_connected(timeout=60)
        assert 2 == fake.subscriptions
        await fake.say(LIU, "/回访 1 满意")
        await fake.wait_said(LIU, "已回访")

        seen = len(fake.said_to(SUN))
        await fake.say(SUN, "/周报")
        await fake.wait_said(SUN, "民情周报", after=seen)
        await fake.wait_for(
            lambda f: len([b for b in fake.said_to(SUN)[seen:] if b["msgtype"] == "image"])
        )
    finally:
        log = await _stop(process)
        await fake.stop()

    assert [] == fake.errors, log[-3000:]
    db = sqlite3.connect(data_dir / "ledger.db")
    assert (1, 1) == db.execute(
        "SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM problems)"
    ).fetchone()
    assert "wecom:visit-1" == db.execute("SELECT client_key FROM visits").fetchone()[0]
    actions = [r[0] for r in db.execute("SELECT action FROM problem_events ORDER BY id")]
    assert ["escalate", "resolve", "follow_up"] == actions
    assert ("followed_up", "满意") == db.execute(
        "SELECT status, satisfaction FROM problems"
    ).fetchone()
    assert {("孙书记", SUN), ("刘党员", LIU)} == set(
        db.execute(
            "SELECT m.name, i.external_id FROM identities i JOIN members m ON m.id = i.member_id "
            "WHERE i.channel = 'wecom'"
        ).fetchall()
    )
    assert 1 == db.execute("SELECT count(*) FROM members WHERE name='刘党员'").fetchone()[0]


@pytest.mark.e2e
async def test_wecom_e2e_same_member_on_telegram_and_wecom_against_one_ledger(tmp_path):
    data_dir = tmp_path / "data"
    _seed(data_dir, sun_on_telegram=True)
    wecom, telegram = FakeWeCom(), FakeTelegram()
    process = await _start(data_dir, await wecom.start(), await telegram.start())
    try:
        await wecom.wait_connected(timeout=120)
        await telegram.wait_for(lambda m, p: m == "setMyCommands", timeout=120)
        # 孙书记 is on both channels: the digest reaches both, once each
        await wecom.wait_said(SUN, "民情周报", timeout=60)
        await telegram.wait_for(
            lambda m, p: m == "sendPhoto" and str(p.get("chat_id")) == str(ADMIN)
        )

        telegram.push_message(ADMIN, "/邀请 volunteer 一组 刘党员")
        found = await telegram.wait_for(
            lambda m, p: m == "sendMessage" and "邀请码：" in p.get("text", "")
        )
        code = found[-1][1]["text"].split("邀请码：")[1].split("（")[0]
        telegram.push_message(VOLUNTEER, f"/start {code}")
        await telegram.wait_for(lambda m, p: m == "sendMessage" and "绑定成功" in p.get("text", ""))
        telegram.push_message(VOLUNTEER, "/走访 张三 腿疼 #问题 申请残疾人证")
        await telegram.wait_for(lambda m, p: m == "sendMessage" and "问题 #1" in p.get("text", ""))

        # the same person, now on WeCom: an invite naming 刘党员 binds the same roster member
        await wecom.say(SUN, "/邀请 volunteer 一组 刘党员")
        made = await wecom.wait_said(SUN, "邀请码：")
        await wecom.say(LIU, f"/start {made.split('邀请码：')[1].split('（')[0]}")
        await wecom.wait_said(LIU, "绑定成功：刘党员")
        await wecom.say(LIU, "/我的")
        mine = await wecom.wait_said(LIU, "#1")
        assert "申请残疾人证" in mine  # the problem logged on Telegram
        card = _card_with(wecom, LIU, "上报")
        await wecom.press(LIU, card["task_id"], _button(card, "上报")["key"])
        await wecom.wait_said(LIU, "已上报村级")
    finally:
        log = await _stop(process)
        await wecom.stop()
        await telegram.stop()

    assert [] == wecom.errors, log[-3000:]
    db = sqlite3.connect(data_dir / "ledger.db")
    liu = db.execute("SELECT id FROM members WHERE name='刘党员'").fetchall()
    assert 1 == len(liu)
    assert [("telegram", str(VOLUNTEER)), ("wecom", LIU)] == db.execute(
        "SELECT channel, external_id FROM identities WHERE member_id=? ORDER BY channel", liu[0]
    ).fetchall()
    assert [("escalate",)] == db.execute("SELECT action FROM problem_events").fetchall()
    assert [("telegram", str(ADMIN)), ("wecom", SUN)] == db.execute(
        "SELECT channel, external_id FROM channel_deliveries WHERE job='weekly_digest' "
        "ORDER BY channel"
    ).fetchall()
