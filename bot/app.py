"""Composition root: Settings → services → Dispatcher with routers (and the scheduler)."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand

from bot import texts
from bot.config import Settings
from bot.handlers import ask, fallback, problems, reports, start, visits
from bot.handlers.common import IdentityMiddleware
from bot.services.answer import Answerer, ensure_index
from bot.services.ledger_service import LedgerService

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
    dp.message.outer_middleware(identity)
    dp.callback_query.outer_middleware(identity)
    # order is priority: commands and forms first, the catch-all last
    features = (start, visits, problems, reports, ask, fallback)
    dp.include_routers(*(feature.routes.build() for feature in features))
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


async def run_polling(settings: Settings) -> None:
    if settings.bot.mode != "polling":
        raise SystemExit("[bot] mode：目前只支持 polling（长轮询），webhook 模式尚未实现。")
    ensure_index(settings)
    answerer = Answerer.from_settings(settings)
    ledger = LedgerService.open(settings)
    bot = make_bot(settings)
    dp = build_dispatcher(settings, answerer, ledger)
    await bot.set_my_commands(menu())
    from bot.scheduler import start_scheduler

    scheduler = start_scheduler(settings, bot, ledger)
    try:
        await dp.start_polling(bot, handle_signals=True)
    finally:
        scheduler.shutdown(wait=False)
        await bot.session.close()


def run_bot(settings: Settings) -> None:
    logging.getLogger("aiogram").setLevel(logging.INFO)
    asyncio.run(run_polling(settings))
