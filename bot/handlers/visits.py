"""/走访: the one-line log, the guided form (state kept on disk, so it survives a restart),
and a location or photo sent right after a visit."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import texts
from bot.handlers.common import MAX_INPUT, Routes, client_key, command, need_member, reply
from bot.handlers.problems import problem_keyboard
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import Ambiguous, LedgerError, VisitResult

routes = Routes("visits")


class VisitForm(StatesGroup):
    household = State()
    situation = State()
    problem = State()
    confirm = State()


def confirmation(ledger: LedgerService, result: VisitResult) -> str:
    when = ledger.local(result.visit.visited_at).strftime("%m-%d")
    if result.replayed:
        lines = [texts.VISIT_REPLAYED.format(household=result.household.label)]
    else:
        lines = [
            texts.VISIT_SAVED.format(
                household=result.household.label, method=result.visit.method, date=when
            )
        ]
    if result.masked_ids:
        lines.append(texts.VISIT_MASKED)
    if result.problem and not result.replayed:
        deadline = ledger.local(result.problem.deadline).strftime("%m-%d")
        lines.append(
            texts.VISIT_PROBLEM.format(
                id=result.problem.id, description=result.problem.description, deadline=deadline
            )
        )
    return "\n".join(lines)


def household_buttons(households, prefix: str = "vf:h") -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(text=h.label[:30], callback_data=f"{prefix}:{h.id}")]
        for h in households[:30]
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


@routes.message(command("visit"))
async def visit(
    message: Message, command: CommandObject, ledger: LedgerService, member, state: FSMContext
) -> None:
    if not await need_member(message, member):
        return
    text = (command.args or "").strip()
    if not text:  # the guided form
        households = ledger.visible_households(member)
        if not households:
            await reply(message, texts.FORM_NO_HOUSEHOLDS)
            return
        await state.set_state(VisitForm.household)
        await message.answer(texts.FORM_PICK, reply_markup=household_buttons(households))
        return
    if len(text) > MAX_INPUT:
        await reply(message, texts.TOO_LONG.format(n=len(text), limit=MAX_INPUT))
        return
    try:
        result = ledger.log_visit_text(member, text, client_key(message))
    except Ambiguous as exc:
        await message.answer(str(exc), reply_markup=household_buttons(exc.candidates))
        return
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    markup = problem_keyboard(ledger, member, result.problem) if result.problem else None
    await reply(message, confirmation(ledger, result), reply_markup=markup)


@routes.message(command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await reply(message, texts.NOTHING_TO_CANCEL)
        return
    await state.clear()
    await reply(message, texts.FORM_CANCELLED)


@routes.callback_query(F.data.startswith("vf:h:"))
async def picked_household(
    call: CallbackQuery, ledger: LedgerService, member, state: FSMContext
) -> None:
    if not await need_member(call, member):
        return
    try:
        household = ledger.household(member, int(call.data.split(":")[2]))
    except (ValueError, LedgerError):
        await call.answer(texts.BUTTON_BAD, show_alert=True)
        return
    await state.set_state(VisitForm.situation)
    await state.update_data(household_id=household.id, household=household.label)
    await call.answer()
    await call.message.answer(texts.FORM_SITUATION.format(household=household.label))


@routes.message(StateFilter(VisitForm.situation), F.text, ~F.text.startswith(("/", "／")))
async def form_situation(message: Message, state: FSMContext) -> None:
    await state.update_data(situation=message.text[:MAX_INPUT])
    await state.set_state(VisitForm.problem)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=texts.FORM_NO_PROBLEM, callback_data="vf:noproblem")]
        ]
    )
    await message.answer(texts.FORM_PROBLEM, reply_markup=markup)


async def _ask_confirm(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(VisitForm.confirm)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=texts.FORM_OK, callback_data="vf:ok")]]
    )
    await reply(
        message,
        texts.FORM_CONFIRM.format(
            household=data["household"],
            situation=data["situation"],
            problem=data.get("problem") or "无",
        ),
        reply_markup=markup,
    )


@routes.message(StateFilter(VisitForm.problem), F.text, ~F.text.startswith(("/", "／")))
async def form_problem(message: Message, state: FSMContext) -> None:
    await state.update_data(problem=message.text[:MAX_INPUT])
    await _ask_confirm(message, state)


@routes.callback_query(F.data == "vf:noproblem")
async def form_no_problem(call: CallbackQuery, state: FSMContext) -> None:
    if await state.get_state() != VisitForm.problem.state:
        await call.answer(texts.FORM_EXPIRED, show_alert=True)
        return
    await state.update_data(problem="")
    await call.answer()
    await _ask_confirm(call.message, state)


@routes.callback_query(F.data == "vf:ok")
async def form_ok(call: CallbackQuery, ledger: LedgerService, member, state: FSMContext) -> None:
    if await state.get_state() != VisitForm.confirm.state or not member:
        await call.answer(texts.FORM_EXPIRED, show_alert=True)
        return
    data = await state.get_data()
    try:
        result = ledger.log_visit(
            member,
            data["household_id"],
            data["situation"],
            problem_text=data.get("problem", ""),
            client_key=f"form:{call.message.chat.id}:{call.message.message_id}",
        )
    except LedgerError as exc:
        await call.answer(str(exc), show_alert=True)
        return
    await state.clear()
    await call.answer()
    markup = problem_keyboard(ledger, member, result.problem) if result.problem else None
    await reply(call.message, confirmation(ledger, result), reply_markup=markup)


@routes.message(F.location)
async def location(message: Message, ledger: LedgerService, member) -> None:
    if not await need_member(message, member):
        return
    try:
        ledger.attach_to_last_visit(
            member, location=f"{message.location.latitude:.5f},{message.location.longitude:.5f}"
        )
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await reply(message, texts.ATTACHED_LOCATION)


@routes.message(F.photo)
async def photo(message: Message, ledger: LedgerService, member) -> None:
    if not await need_member(message, member):
        return
    try:
        ledger.attach_to_last_visit(member, photo=message.photo[-1].file_id)
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await reply(message, texts.ATTACHED_PHOTO)


@routes.message(F.voice | F.audio | F.video_note)
async def voice(message: Message) -> None:
    await reply(message, texts.VOICE)
