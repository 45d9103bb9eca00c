"""Putting the WeCom channel together over the shared Dispatcher and ledger, and running it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bot import texts
from bot.channels.wecom.client import WeComClient
from bot.channels.wecom.connection import WeComConnection
from bot.channels.wecom.notifier import WeComNotifier
from bot.channels.wecom.session import Chats, WeComSession
from bot.channels.wecom.transport import WeComTransport
from bot.config import Settings
from bot.ledger.identities import ChannelIdentity
from bot.services.ledger_types import ROLE_NAMES

log = logging.getLogger(__name__)
# aiogram wants a token shaped "<bot id>:<secret>"; this one is never sent anywhere. The bot id
# keeps WeCom's half-filled forms apart from Telegram's in the shared form storage.
BOT_TOKEN = "1000000001:wecom"


@dataclass
class WeComChannel:
    connection: WeComConnection
    bot: Bot
    notifier: WeComNotifier
    task: asyncio.Task

    async def stop(self) -> None:
        await self.connection.stop()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def start_wecom(settings: Settings, dp: Dispatcher, ledger) -> WeComChannel:
    """Open the long connection in the background; callbacks go through `dp` from then on."""
    connection = WeComConnection(
        settings.wecom.bot_id.get_secret_value(),
        settings.wecom.secret.get_secret_value(),
        settings.wecom.ws_url,
        heartbeat_s=settings.wecom.heartbeat_s,
    )
    client = WeComClient(connection)
    chats = Chats()
    bot = Bot(
        BOT_TOKEN,
        session=WeComSession(client, chats),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )

    def welcome(identity: ChannelIdentity) -> str:
        member = ledger.member_by_identity(identity)
        if member is None:
            return texts.WELCOME
        return texts.WELCOME_MEMBER.format(
            name=member.name, role=ROLE_NAMES[member.role], village=member.village or "全乡镇"
        )

    transport = WeComTransport(client, dp, bot, chats, welcome)
    connection.on_callback = transport.on_callback
    task = asyncio.create_task(connection.run_forever(), name="wecom")
    log.info("企业微信通道启动：%s", settings.wecom.ws_url)
    return WeComChannel(connection, bot, WeComNotifier(client), task)
