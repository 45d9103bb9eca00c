"""Last router: what no feature took. Ledger commands and buttons from people not yet
registered (the ledger routers let members only through), unknown commands, commands for other
bots, voice, messages with nothing to read, and buttons nobody recognizes."""

from __future__ import annotations

from aiogram import F
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.handlers.common import Routes, reply

routes = Routes("fallback")
OPEN_COMMANDS = ("start", "help", "ask", "cancel")  # everyone may use these


def ledger_commands() -> Command:
    names = [n for c in texts.COMMANDS if c.name not in OPEN_COMMANDS for n in (c.name, *c.aliases)]
    return Command(*names, prefix="/／", ignore_case=True)


@routes.message(ledger_commands())
async def needs_registration(message: Message) -> None:
    await reply(message, texts.NEED_REGISTRATION)


@routes.message(F.location | F.photo)
async def attachment_needs_registration(message: Message) -> None:
    await reply(message, texts.NEED_REGISTRATION)


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


@routes.message(F.voice | F.audio | F.video_note)
async def voice(message: Message) -> None:
    await reply(message, texts.VOICE)


@routes.message(F.chat.type == ChatType.PRIVATE)
async def nothing_to_read(message: Message) -> None:
    await reply(message, texts.NOTHING_TO_READ)


@routes.callback_query()
async def unknown_button(call: CallbackQuery, member=None) -> None:
    """Every press gets an answer (Telegram shows a spinner until then): a stranger is asked to
    register, a forged, garbled or outdated button is called what it is."""
    await call.answer(
        texts.NEED_REGISTRATION if member is None else texts.BUTTON_BAD, show_alert=True
    )
