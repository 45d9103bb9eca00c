"""Last router: unknown commands, commands for other bots, messages with nothing to read."""

from __future__ import annotations

from aiogram import F
from aiogram.enums import ChatType
from aiogram.types import Message

from bot import texts
from bot.handlers.common import Routes, reply

routes = Routes("fallback")


@routes.message(F.text.startswith(("/", "／")))
async def unknown_command(message: Message) -> None:
    head = message.text.split(maxsplit=1)[0]
    if "@" in head:
        me = await message.bot.me()
        if head.split("@", 1)[1].lower() != (me.username or "").lower():
            return  # addressed to another bot in the same group: not ours to answer
    if message.chat.type != ChatType.PRIVATE and "@" not in head:
        return
    await reply(message, texts.UNKNOWN_COMMAND)


@routes.message(F.chat.type == ChatType.PRIVATE)
async def nothing_to_read(message: Message) -> None:
    await reply(message, texts.NOTHING_TO_READ)
