"""/待走访, /户, /周报, /导出, /邀请."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiogram import F
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot import texts
from bot.channels import TELEGRAM
from bot.handlers.buttons import InviteStep
from bot.handlers.candidates import candidate_text
from bot.handlers.common import Routes, command, reply
from bot.services import command_grammar as grammar
from bot.services.invites import NeedsConfirmation
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import Ambiguous, LedgerError

routes = Routes("reports", members_only=True)


class InviteForm(StatesGroup):
    """An invite that would create a member the roster lacks, waiting for the inviter's yes."""

    confirm = State()


@routes.message(command("due"))
async def due(message: Message, ledger: LedgerService, member) -> None:
    items = ledger.due_households(member)
    if not items:
        await reply(message, texts.DUE_NONE)
        return
    lines = [texts.DUE_HEADER.format(n=len(items))]
    for household, last in items[:50]:
        seen = ledger.local(last).strftime("%m-%d") if last else "从未走访"
        lines.append(f"{household.label}（{'、'.join(household.tags)}）上次：{seen}")
    await reply(message, "\n".join(lines))


@routes.message(command("household"))
async def household(
    message: Message, command: CommandObject, ledger: LedgerService, member
) -> None:
    if command.args:
        try:
            h = ledger.find_household(member, command.args)
        except Ambiguous as exc:
            await reply(message, candidate_text(exc, texts.CANDIDATES_HOUSEHOLD))
            return
        except LedgerError as exc:
            await reply(message, str(exc))
            return
        await reply(
            message,
            texts.HOUSEHOLD_LINE.format(
                label=h.label,
                id=h.id,
                size=h.size,
                phone=ledger.phone_for(member, h) or "无",
                tags="、".join(h.tags) or "无",
            ),
        )
        return
    households = ledger.visible_households(member)
    lines = [texts.HOUSEHOLD_LIST.format(n=len(households))]
    lines += [f"{h.id}. {h.label} {'、'.join(h.tags)}" for h in households[:100]]
    await reply(message, "\n".join(lines))


@routes.message(command("digest"))
async def digest(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    if not member.is_coordinator:
        await reply(message, texts.ONLY_COORDINATORS)
        return
    from bot.services.chart import digest_png
    from bot.services.digest import digest_text

    village = member.village if member.role == "village_coordinator" else None
    try:
        d = ledger.digest((command.args or "").strip() or None, village)
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await reply(message, digest_text(d, ledger.tz))
    png = await asyncio.to_thread(digest_png, d)
    await message.answer_photo(
        BufferedInputFile(png, "digest.png"),
        caption=texts.DIGEST_CAPTION.format(week=d.this_week.week),
    )


@routes.message(command("export"))
async def export(message: Message, ledger: LedgerService, member) -> None:
    if not member.is_coordinator:
        await reply(message, texts.ONLY_COORDINATORS)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "民情台账.xlsx"
        written = await asyncio.to_thread(ledger.export, path, member)
        rows = "，".join(f"{k}{v}行" for k, v in written.items())
        await message.answer_document(
            BufferedInputFile(path.read_bytes(), "民情台账.xlsx"),
            caption=texts.EXPORT_CAPTION.format(rows=rows),
        )


@routes.message(command("invite"))
async def invite(
    message: Message,
    command: CommandObject,
    ledger: LedgerService,
    member,
    state: FSMContext,
    identity=None,
    confirm_new: bool = False,
) -> None:
    try:
        request = grammar.invite_request(command.args)
        role, grid = request.role, request.grid
        code = ledger.create_invite(
            member, role, request.village, grid, request.name, confirm_new=confirm_new
        )
    except NeedsConfirmation as exc:  # a member the roster does not have: ask first
        await state.set_state(InviteForm.confirm)
        await state.update_data(args=command.args or "")
        button = InlineKeyboardButton(
            text=texts.INVITE_CONFIRM_BUTTON, callback_data=InviteStep(step="ok").pack()
        )
        markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
        await reply(message, f"{exc}\n{texts.INVITE_CONFIRM_HINT}", reply_markup=markup)
        return
    except LedgerError as exc:
        await reply(message, f"{exc}\n{texts.INVITE_USAGE}")
        return
    village = request.village or member.village or "全乡镇"
    made = texts.INVITE_MADE.format(code=code, role=role, village=village, grid=grid)
    if identity is None or identity.channel == TELEGRAM:  # a t.me link means nothing elsewhere
        me = await message.bot.me()
        made += texts.INVITE_LINK.format(link=f"https://t.me/{me.username}?start={code}")
    await reply(message, made)


async def _confirmed_invite(
    message: Message, ledger: LedgerService, member, state: FSMContext, identity
) -> None:
    args = (await state.get_data()).get("args", "")
    await state.clear()
    await invite(
        message,
        CommandObject(command="invite", args=args or None),
        ledger,
        member,
        state,
        identity=identity,
        confirm_new=True,
    )


@routes.callback_query(InviteStep.filter(F.step == "ok"))
async def invite_confirmed(
    call: CallbackQuery, ledger: LedgerService, member, state: FSMContext, identity=None
) -> None:
    if await state.get_state() != InviteForm.confirm.state:
        await call.answer(texts.INVITE_EXPIRED, show_alert=True)
        return
    await call.answer()
    await _confirmed_invite(call.message, ledger, member, state, identity)


@routes.message(StateFilter(InviteForm.confirm), F.text.in_({"确认", "确定", "是"}))
async def invite_confirmed_by_text(
    message: Message, ledger: LedgerService, member, state: FSMContext, identity=None
) -> None:
    await _confirmed_invite(message, ledger, member, state, identity)
