"""Policy questions: /ask, and plain text in a private chat (or a mention in a group)."""

from __future__ import annotations

import asyncio

from aiogram import F
from aiogram.enums import ChatType
from aiogram.filters import CommandObject
from aiogram.types import Message

from bot import texts
from bot.handlers.common import MAX_INPUT, Routes, command, reply
from bot.services.answer import Answerer, format_answer
from bot.services.regions import member_region

routes = Routes("ask")


async def answer_question(
    message: Message, question: str, answerer: Answerer, member, settings, region_override=None
) -> None:
    if member is None and not settings.bot.public_ask:
        await reply(message, texts.ASK_DISABLED)
        return
    if len(question) > MAX_INPUT:
        await reply(message, texts.TOO_LONG.format(n=len(question), limit=MAX_INPUT))
        return
    region = member_region(settings, member, region_override)  # village → township → county
    # retrieval is CPU work: keep the event loop free for other chats
    answer = await asyncio.to_thread(answerer.answer, question, region)
    await reply(message, format_answer(answer))


@routes.message(command("ask"))
async def ask(
    message: Message,
    command: CommandObject,
    answerer: Answerer,
    member,
    settings,
    region_override=None,
) -> None:
    if not (command.args or "").strip():
        await reply(message, texts.ASK_EMPTY)
        return
    await answer_question(message, command.args, answerer, member, settings, region_override)


@routes.message(F.text, F.chat.type == ChatType.PRIVATE, ~F.text.startswith(("/", "／")))
async def plain_text(
    message: Message, answerer: Answerer, member, settings, region_override=None
) -> None:
    await answer_question(message, message.text, answerer, member, settings, region_override)


@routes.message(
    F.text, F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}), F.text.contains("@")
)
async def mention_in_group(
    message: Message, answerer: Answerer, member, settings, region_override=None
) -> None:
    me = await message.bot.me()
    mention = f"@{me.username}"
    if not me.username or mention.lower() not in message.text.lower():
        return
    question = message.text.replace(mention, " ").strip()
    await answer_question(message, question, answerer, member, settings, region_override)
