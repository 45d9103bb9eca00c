"""/start (with an invite code from a deep link), /help, /取消 (for anyone: it only clears what
this chat was filling in)."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot import texts
from bot.handlers.common import Routes, command, reply
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import ROLE_NAMES, LedgerError

routes = Routes("start")


@routes.message(command("start"))
async def start(
    message: Message, command: CommandObject, ledger: LedgerService, member, identity=None
) -> None:
    code = (command.args or "").strip()
    if code:
        # the account that sent it, on whichever channel (the console passes none: Telegram id)
        who = identity or message.from_user.id
        try:
            member = ledger.redeem_invite(code, who, message.from_user.full_name)
        except LedgerError as exc:
            await reply(message, str(exc))
            return
        await reply(
            message,
            texts.REGISTERED.format(
                name=member.name, role=ROLE_NAMES[member.role], village=member.village or "全乡镇"
            ),
        )
        return
    if member:
        await reply(
            message,
            texts.WELCOME_MEMBER.format(
                name=member.name, role=ROLE_NAMES[member.role], village=member.village or "全乡镇"
            ),
        )
    else:
        await reply(message, texts.WELCOME)
    await reply(message, texts.help_text())


@routes.message(command("help"))
async def help_(message: Message) -> None:
    await reply(message, texts.help_text())


@routes.message(command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await reply(message, texts.NOTHING_TO_CANCEL)
        return
    await state.clear()
    await reply(message, texts.FORM_CANCELLED)
