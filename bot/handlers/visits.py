"""/走访: the one-line log, the guided form (state kept on disk, so it survives a restart),
/更正 of a visit, and a location or photo sent right after a visit."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import texts
from bot.handlers.buttons import FormStep, HouseholdPick
from bot.handlers.candidates import SCREENFUL, candidate_text
from bot.handlers.common import MAX_INPUT, Routes, client_key, command, reply
from bot.handlers.problems import problem_keyboard
from bot.services import command_grammar as grammar
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import Ambiguous, LedgerError, VisitResult

routes = Routes("visits", members_only=True)


class VisitForm(StatesGroup):
    household = State()
    situation = State()
    problem = State()
    confirm = State()
    pick_for_line = State()  # a one-line log whose household was ambiguous: the line waits


def confirmation(ledger: LedgerService, result: VisitResult) -> str:
    when = ledger.local(result.visit.visited_at).strftime("%m-%d")
    if result.replayed:
        lines = [texts.VISIT_REPLAYED.format(household=result.household.label)]
    elif result.visit.supersedes:
        lines = [
            texts.VISIT_CORRECTED.format(
                old=result.visit.supersedes,
                id=result.visit.id,
                household=result.household.label,
                date=when,
            )
        ]
    else:
        lines = [
            texts.VISIT_SAVED.format(
                household=result.household.label,
                method=result.visit.method,
                date=when,
                id=result.visit.id,
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


def household_buttons(households) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=h.label[:30], callback_data=HouseholdPick(kind="h", id=h.id).pack()
            )
        ]
        for h in households[:30]
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


@routes.message(command("visit"))
async def visit(
    message: Message, command: CommandObject, ledger: LedgerService, member, state: FSMContext
) -> None:
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
        # the rest of the line waits for the pick, under this message's key (a redelivered
        # message or a second pick stores nothing twice)
        await state.set_state(VisitForm.pick_for_line)
        rest = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
        await state.update_data(rest=rest, key=client_key(message))
        await reply(
            message,
            candidate_text(exc, texts.CANDIDATES_VISIT),
            reply_markup=household_buttons(exc.candidates[:SCREENFUL]),
        )
        return
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    markup = problem_keyboard(ledger, member, result.problem) if result.problem else None
    await reply(message, confirmation(ledger, result), reply_markup=markup)


@routes.message(command("correct"))
async def correct(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    try:
        visit_id, situation = grammar.optional_number_and_rest(command.args)
    except grammar.UsageError:
        await reply(
            message, texts.PROBLEM_USAGE.format(usage="/更正 新的情况 或 /更正 12 新的情况")
        )
        return
    if len(situation) > MAX_INPUT:
        await reply(message, texts.TOO_LONG.format(n=len(situation), limit=MAX_INPUT))
        return
    try:
        result = ledger.correct_visit(member, visit_id, situation, client_key(message))
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await reply(message, confirmation(ledger, result))


@routes.callback_query(HouseholdPick.filter())
async def picked_household(
    call: CallbackQuery,
    callback_data: HouseholdPick,
    ledger: LedgerService,
    member,
    state: FSMContext,
) -> None:
    try:
        household = ledger.household(member, callback_data.id)
    except LedgerError:
        await call.answer(texts.BUTTON_BAD, show_alert=True)
        return
    if await state.get_state() == VisitForm.pick_for_line.state:
        data = await state.get_data()
        try:
            result = ledger.log_visit_text(member, f"户{household.id} {data['rest']}", data["key"])
        except LedgerError as exc:
            await call.answer(str(exc)[:190], show_alert=True)
            return
        await _show_logged(call, state, ledger, member, result)
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
            [
                InlineKeyboardButton(
                    text=texts.FORM_NO_PROBLEM, callback_data=FormStep(step="noproblem").pack()
                )
            ]
        ]
    )
    await message.answer(texts.FORM_PROBLEM, reply_markup=markup)


async def _ask_confirm(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(VisitForm.confirm)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=texts.FORM_OK, callback_data=FormStep(step="ok").pack())]
        ]
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


@routes.callback_query(FormStep.filter(F.step == "noproblem"))
async def form_no_problem(call: CallbackQuery, state: FSMContext) -> None:
    if await state.get_state() != VisitForm.problem.state:
        await call.answer(texts.FORM_EXPIRED, show_alert=True)
        return
    await state.update_data(problem="")
    await call.answer()
    await _ask_confirm(call.message, state)


@routes.callback_query(FormStep.filter(F.step == "ok"))
async def form_ok(call: CallbackQuery, ledger: LedgerService, member, state: FSMContext) -> None:
    if await state.get_state() != VisitForm.confirm.state:
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
        await call.answer(str(exc)[:190], show_alert=True)
        return
    await _show_logged(call, state, ledger, member, result)


async def _show_logged(
    call: CallbackQuery, state: FSMContext, ledger: LedgerService, member, result
) -> None:
    """Close the form and show the logged visit, with its problem's buttons if it has one."""
    await state.clear()
    await call.answer()
    markup = problem_keyboard(ledger, member, result.problem) if result.problem else None
    await reply(call.message, confirmation(ledger, result), reply_markup=markup)


@routes.message(F.location)
async def location(message: Message, ledger: LedgerService, member) -> None:
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
    try:
        ledger.attach_to_last_visit(member, photo=message.photo[-1].file_id)
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await reply(message, texts.ATTACHED_PHOTO)
