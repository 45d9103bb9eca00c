"""Items 19 and 20 of issue #10: a random webhook secret kept in the data dir, and a bot that
waits for an unreachable Bot API at start instead of exiting."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import sys

import aiohttp
import pytest
from aiohttp import web
from fake_telegram import FakeTelegram

from bot.app import WEBHOOK_PATH, build_dispatcher, make_bot, prepare_telegram, serve_webhook
from bot.config import ConfigError, load_settings
from bot.services.ledger_service import LedgerService
from bot.webhook_secret import SECRET_FILE, webhook_secret

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("LIANHU_"):
            monkeypatch.delenv(name)

    def settings(**bot):
        monkeypatch.setenv("LIANHU_BOT__TOKEN", TOKEN)
        for key, value in bot.items():
            monkeypatch.setenv(f"LIANHU_BOT__{key.upper()}", str(value))
        return load_settings(tmp_path)

    return settings


def test_item19_secret_is_random_private_kept_and_not_the_tokens(tmp_path):
    first = webhook_secret(tmp_path / "a")
    path = tmp_path / "a" / SECRET_FILE
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    assert first == webhook_secret(tmp_path / "a")  # kept across restarts
    assert first != webhook_secret(tmp_path / "b")  # random, not derived from anything
    assert 43 == len(first) and set(first) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    )
    old_derivation = TOKEN.split(":")[-1][:32].replace("-", "_")
    assert old_derivation[:8] not in first
    os.chmod(path, 0o644)  # copied in carelessly: tightened again, the secret kept
    assert first == webhook_secret(tmp_path / "a")
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    path.write_text("short\n")  # not one we would make: replaced by a good one
    replaced = webhook_secret(tmp_path / "a")
    assert replaced != "short" and 43 == len(replaced)
    assert [SECRET_FILE] == [p.name for p in (tmp_path / "a").iterdir()]


async def test_item19_webhook_registers_the_kept_secret_and_refuses_others(env, tmp_path):
    fake = FakeTelegram()
    base = await fake.start()
    port = _free_port()
    settings = env(
        api_base=base, mode="webhook", webhook_url=f"http://127.0.0.1:{port}", webhook_port=port
    )
    bot = make_bot(settings)
    ledger = LedgerService.open(settings)
    server = asyncio.create_task(
        serve_webhook(settings, build_dispatcher(settings, None, ledger), bot)
    )
    try:
        registered = await fake.wait_for(lambda m, p: m == "setWebhook", timeout=20)
        secret = registered[0][1]["secret_token"]
        assert (tmp_path / SECRET_FILE).read_text().strip() == secret
        assert TOKEN.split(":")[-1][:20] not in secret
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "访客"},
                "text": "/help",
            },
        }
        url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    async with http.post(
                        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
                    ) as r:
                        assert 200 == r.status
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            old_secret = TOKEN.split(":")[-1][:32].replace("-", "_")
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": old_secret}
            ) as r:
                assert 401 == r.status
        await fake.wait_for(lambda m, p: m == "sendMessage" and str(p["chat_id"]) == "5")
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
        await bot.session.close()
        ledger.close_db()
        await fake.stop()


async def test_item20_startup_calls_retried_until_the_bot_api_answers(env, caplog):
    port = _free_port()  # nothing listens there yet: connections are refused
    bot = make_bot(env(api_base=f"http://127.0.0.1:{port}"))
    starting = asyncio.create_task(prepare_telegram(bot, first_delay=0.05))
    await asyncio.sleep(0.8)
    assert not starting.done()  # still trying, not exited
    refused = [r for r in caplog.records if "getMe failed" in r.getMessage()]
    assert len(refused) >= 3
    fake = FakeTelegram()
    await fake.start(port)
    try:
        await asyncio.wait_for(starting, 10)
        assert ["getMe", "setMyCommands"] == [m for m, _ in fake.calls]
    finally:
        await bot.session.close()
        await fake.stop()


async def test_item20_a_token_telegram_refuses_stops_with_one_line_and_no_retry(env):
    calls = []

    async def unauthorized(request):
        calls.append(request.match_info["method"])
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", unauthorized)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    bot = make_bot(env(api_base=f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(ConfigError, match="LIANHU_BOT__TOKEN"):
            await prepare_telegram(bot, first_delay=0.05)
        assert ["getMe"] == calls
    finally:
        await bot.session.close()
        await runner.cleanup()


@pytest.mark.e2e
async def test_item20_lianhu_run_waits_for_an_unreachable_bot_api(tmp_path):
    """The real process: started while nothing answers on the Bot API's port, it keeps
    retrying, and polls for updates once a fake Bot API comes up there."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANHU_")}
    env.update(
        LIANHU_BOT__TOKEN=TOKEN,
        LIANHU_BOT__API_BASE=f"http://127.0.0.1:{port}",
        LIANHU_DATA_DIR=str(tmp_path),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    fake = FakeTelegram()
    try:
        refusals = 0
        while refusals < 2:  # two refused attempts seen in its log, then the API comes up
            line = await asyncio.wait_for(process.stderr.readline(), 120)
            assert line, "the bot exited instead of retrying"
            refusals += b"failed (attempt" in line
        await fake.start(port)
        await fake.wait_for(lambda m, p: m == "setMyCommands", timeout=30)
        for _ in range(300):
            if fake.first_get_updates is not None:
                break
            await asyncio.sleep(0.1)
        assert fake.first_get_updates is not None and process.returncode is None
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
        await fake.stop()
