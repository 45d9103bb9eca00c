"""Composition root: Settings → services → Dispatcher with routers (and the scheduler)."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand

from bot import texts
from bot.channels import TELEGRAM, WECOM
from bot.channels.telegram.notifier import TelegramNotifier
from bot.config import Settings
from bot.handlers import ask, errors, fallback, problems, reports, start, visits
from bot.handlers.clean_input import CleanTextMiddleware
from bot.handlers.common import IdentityMiddleware
from bot.services.answer import Answerer, ensure_index
from bot.services.ledger_service import LedgerService
from bot.startup_retry import call_with_retry
from bot.webhook_secret import webhook_secret

log = logging.getLogger(__name__)


def build_dispatcher(
    settings: Settings, answerer: Answerer, ledger: LedgerService, storage=None, identity=None
) -> Dispatcher:
    from bot.fsm_storage import SQLiteStorage

    dp = Dispatcher(storage=storage or SQLiteStorage(settings.data_dir / "fsm.db"))
    dp["settings"] = settings
    dp["answerer"] = answerer
    dp["ledger"] = ledger
    identity = identity or IdentityMiddleware(ledger)
    dp.message.outer_middleware(CleanTextMiddleware())  # control characters out, first of all
    dp.message.outer_middleware(identity)
    dp.callback_query.outer_middleware(identity)
    # order is priority: commands and forms first, the catch-all last
    features = (start, visits, problems, reports, ask, fallback)
    dp.include_routers(*(feature.routes.build() for feature in features))
    errors.register(dp)
    return dp


def make_bot(settings: Settings) -> Bot:
    session = None
    if settings.bot.api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.bot.api_base))
    return Bot(
        settings.bot.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def menu() -> list[BotCommand]:
    return [BotCommand(command=c.name, description=c.help[:100]) for c in texts.COMMANDS if c.menu]


WEBHOOK_PATH = "/telegram/webhook"


async def run_bot_async(settings: Settings) -> None:
    """Every channel that has credentials, in one process over one Dispatcher and one ledger:
    Telegram (long polling by default; `[bot] mode = "webhook"` serves Telegram's POSTs
    instead) and WeCom (the 智能机器人 long connection, bot/channels/wecom)."""
    telegram = bool(settings.bot.token.get_secret_value())
    if telegram and settings.bot.mode not in ("polling", "webhook"):
        raise SystemExit("[bot] mode 只能是 polling 或 webhook。")
    if telegram and settings.bot.mode == "webhook" and not settings.bot.webhook_url:
        raise SystemExit(
            "[bot] mode = webhook 需要 webhook_url（Telegram 能访问到的 https 地址）。"
        )
    ensure_index(settings)
    answerer = Answerer.from_settings(settings)
    ledger = LedgerService.open(settings)
    dp = build_dispatcher(settings, answerer, ledger)
    notifiers, wecom, bot = {}, None, None
    if settings.wecom.enabled:
        from bot.channels.wecom.runner import start_wecom

        wecom = start_wecom(settings, dp, ledger)
        notifiers[WECOM] = wecom.notifier
    if telegram:
        bot = make_bot(settings)
        await prepare_telegram(bot)
        notifiers[TELEGRAM] = TelegramNotifier(bot)
    from bot.scheduler import start_scheduler

    scheduler = start_scheduler(settings, notifiers, ledger)
    try:
        if bot is None:
            await _until_stopped()
        elif settings.bot.mode == "webhook":
            await serve_webhook(settings, dp, bot)
        else:
            await dp.start_polling(bot, handle_signals=True)
    finally:
        scheduler.shutdown(wait=False)
        if wecom is not None:
            await wecom.stop()
        if bot is not None:
            await bot.session.close()


async def prepare_telegram(bot: Bot, first_delay: float = 1.0) -> None:
    """The first Bot API calls, retried with backoff while the API cannot be reached."""
    await call_with_retry(bot.me, "getMe", first_delay=first_delay)
    await call_with_retry(
        lambda: bot.set_my_commands(menu()), "setMyCommands", first_delay=first_delay
    )


async def _until_stopped() -> None:
    """Wait for Ctrl+C or SIGTERM (what polling does for itself when Telegram runs too)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def serve_webhook(settings: Settings, dp: Dispatcher, bot: Bot) -> None:
    """Register the webhook with Telegram and serve updates on host:port until stopped."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    secret = webhook_secret(settings.data_dir)  # random, kept in the data dir; not the token's
    await call_with_retry(
        lambda: bot.set_webhook(
            settings.bot.webhook_url.rstrip("/") + WEBHOOK_PATH,
            secret_token=secret,
            drop_pending_updates=False,
        ),
        "setWebhook",
    )
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
        app, path=WEBHOOK_PATH
    )
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, settings.bot.webhook_host, settings.bot.webhook_port).start()
    log.info(
        "webhook on %s:%s%s", settings.bot.webhook_host, settings.bot.webhook_port, WEBHOOK_PATH
    )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def run_bot(settings: Settings) -> None:
    logging.getLogger("aiogram").setLevel(logging.INFO)
    asyncio.run(run_bot_async(settings))
