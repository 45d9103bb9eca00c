"""End to end: the real `lianhu run` process, long polling a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram

from bot.config import load_settings
from bot.services.ledger_service import LedgerService

ADMIN, VOLUNTEER = 22, 11


def _seed(data_dir: Path) -> None:
    ledger = LedgerService.open(load_settings(data_dir))
    volunteer = ledger.add_member("刘党员", "volunteer", "东村", "一组")
    ledger.add_member("孙书记", "village_coordinator", "东村", telegram_id=ADMIN)
    ledger.add_household("东村", "张三", "一组", "12号", 3, "", ("低保户",), volunteer)
    ledger.close_db()


def _texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [
        p.get("text", "")
        for m, p in fake.calls
        if m == "sendMessage" and str(p.get("chat_id")) == str(chat_id)
    ]


async def _said(fake, chat_id, needle, timeout=60.0) -> str:
    found = await fake.wait_for(
        lambda m, p: (
            m == "sendMessage"
            and str(p.get("chat_id")) == str(chat_id)
            and needle in p.get("text", "")
        ),
        timeout,
    )
    return found[-1][1]["text"]


@pytest.mark.e2e
async def test_e2e_register_ask_visit_escalate_resolve_followup_digest(tmp_path):
    data_dir = tmp_path / "data"
    _seed(data_dir)
    fake = FakeTelegram()
    base = await fake.start()
    env = {
        **os.environ,
        "LIANHU_BOT__TOKEN": "123456:TEST",
        "LIANHU_BOT__API_BASE": base,
        "LIANHU_DATA_DIR": str(data_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake.wait_for(lambda m, p: m == "setMyCommands", timeout=90)
        commands = json.loads(next(p for m, p in fake.calls if m == "setMyCommands")["commands"])
        assert all(c["command"].isascii() for c in commands)

        fake.push_message(ADMIN, "/邀请 volunteer 一组 刘党员")
        code = (await _said(fake, ADMIN, "邀请码：")).split("邀请码：")[1].split("（")[0]
        fake.push_message(VOLUNTEER, f"/start {code}")
        await _said(fake, VOLUNTEER, "绑定成功：刘党员")

        fake.push_message(VOLUNTEER, "家里穷，能吃低保不")
        assert "第九条" in await _said(fake, VOLUNTEER, "依据")

        visit_id = fake.push_message(VOLUNTEER, "/走访 张三 腿疼，需要轮椅 #问题 申请残疾人证")
        confirmation = await _said(fake, VOLUNTEER, "已记走访")
        assert "问题 #1" in confirmation
        fake.push_message(
            VOLUNTEER, "/走访 张三 腿疼，需要轮椅 #问题 申请残疾人证", message_id=visit_id
        )  # redelivered
        await _said(fake, VOLUNTEER, "已经记过了")

        markup = json.loads(
            next(
                p
                for m, p in reversed(fake.calls)
                if m == "sendMessage"
                and "reply_markup" in p
                and str(p["chat_id"]) == str(VOLUNTEER)
            )["reply_markup"]
        )
        escalate = next(
            b["callback_data"]
            for row in markup["inline_keyboard"]
            for b in row
            if b["text"] == "上报村级"
        )
        fake.push_callback(VOLUNTEER, escalate, message_id=777, callback_id="c1")
        fake.push_callback(VOLUNTEER, escalate, message_id=777, callback_id="c2")  # double tap
        answers = await fake.wait_for(
            lambda m, p: m == "answerCallbackQuery" and p.get("callback_query_id") == "c2"
        )
        assert "已经办过了" in answers[0][1].get("text", "")

        fake.push_message(ADMIN, "/办结 1 已帮助申请残疾人证")
        await _said(fake, ADMIN, "已办结")
        fake.push_message(VOLUNTEER, "/回访 1 满意")
        await _said(fake, VOLUNTEER, "已回访")

        fake.push_message(ADMIN, "/周报")
        await _said(fake, ADMIN, "民情周报")
        await fake.wait_for(lambda m, p: m == "sendPhoto" and str(p.get("chat_id")) == str(ADMIN))
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
        await fake.stop()

    db = sqlite3.connect(data_dir / "ledger.db")
    assert (1, 1) == db.execute(
        "SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM problems)"
    ).fetchone()
    actions = [r[0] for r in db.execute("SELECT action FROM problem_events ORDER BY id")]
    assert ["escalate", "resolve", "follow_up"] == actions
    assert ("followed_up", "满意") == db.execute(
        "SELECT status, satisfaction FROM problems"
    ).fetchone()


@pytest.mark.e2e
async def test_e2e_webhook_mode_answers_a_posted_update(tmp_path):
    """Webhook mode: the bot registers its URL, then answers an update POSTed to it."""
    import socket

    import aiohttp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake = FakeTelegram()
    base = await fake.start()
    env = {
        **os.environ,
        "LIANHU_BOT__TOKEN": "123456:TEST",
        "LIANHU_BOT__API_BASE": base,
        "LIANHU_DATA_DIR": str(tmp_path),
        "LIANHU_BOT__MODE": "webhook",
        "LIANHU_BOT__WEBHOOK_URL": f"http://127.0.0.1:{port}",
        "LIANHU_BOT__WEBHOOK_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        registered = await fake.wait_for(lambda m, p: m == "setWebhook", timeout=90)
        url, secret = registered[0][1]["url"], registered[0][1]["secret_token"]
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "访客"},
                "text": "家里穷，能吃低保不",
            },
        }
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # the server starts listening right after setWebhook
                try:
                    async with http.post(
                        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
                    ) as r:
                        assert 200 == r.status
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.2)
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "forged"}
            ) as r:
                assert 401 == r.status
        assert "第九条" in await _said(fake, 5, "依据")
    finally:
        process.terminate()
        await process.wait()
        await fake.stop()
