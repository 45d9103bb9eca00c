"""Problems: /问题, one typed command per step of the lifecycle table (/当场解决, /上报, /办结,
/回访, /销号), /我的 with counts and pages, and the buttons for the next allowed steps.

A button carries the problem's version: a stale button is refused as a conflict, and with the
message id it gives a double tap the same client key, so the second tap changes nothing. A
typed command carries what it means instead (`/上报 12` means "to the village"), which the
service compares with the problem's state before moving it. Steps that need words (当场解决,
办结) ask for one line after the button, and the answer is checked against the same version."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import texts
from bot.handlers.buttons import ProblemButton
from bot.handlers.candidates import candidate_text
from bot.handlers.common import MAX_INPUT, Routes, client_key, command, reply
from bot.services import command_grammar as grammar
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import (
    SATISFACTION,
    STATUS_NAMES,
    Ambiguous,
    LedgerError,
    Member,
    Problem,
    TransitionResult,
)
from bot.services.lifecycle import ACTIONS
from bot.services.masking import mask_personal

routes = Routes("problems", members_only=True)
USAGE = {
    "solve_on_spot": "/当场解决 12 已帮忙联系维修",
    "escalate": "/上报 12（上报村级）或 /上报 12 乡镇",
    "resolve": "/办结 12 已帮助申请残疾人证",
    "follow_up": "/回访 12 满意",
    "close": "/销号 12",
}


class ResultForm(StatesGroup):
    """After a 当场解决 or 办结 button: waiting for the one line saying what was done."""

    result = State()


def problem_keyboard(
    ledger: LedgerService, member: Member, problem: Problem
) -> InlineKeyboardMarkup | None:
    """One button per step of the lifecycle table the member may take now, labelled with what
    it does (上报村级, 上报乡镇, 当场解决, 回访：满意 …)."""
    buttons = []
    for move in ledger.next_moves(member, problem):
        if move.action == "follow_up":
            action = f"fu{SATISFACTION.index(move.verdicts[0])}"
        else:
            action = move.action
        data = ProblemButton(id=problem.id, action=action, version=problem.version).pack()
        buttons.append(InlineKeyboardButton(text=move.label, callback_data=data))
    return InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons]) if buttons else None


def describe(
    ledger: LedgerService, problem: Problem, overdue: bool = False, member: Member | None = None
) -> str:
    # free text may hold a phone number: in full only to the roles that may see phones
    show_phones = member is not None and member.role in ledger.settings.ledger.phone_visible_roles
    return texts.PROBLEM_LINE.format(
        overdue=texts.OVERDUE_MARK if overdue else "",
        id=problem.id,
        household=ledger.household_name(problem.household_id),
        status=STATUS_NAMES[problem.status],
        description=mask_personal(problem.description, show_phones)[:60],
        deadline=ledger.local(problem.deadline).strftime("%m-%d"),
    )


async def _answer_step(
    message: Message, ledger: LedgerService, member: Member, result: TransitionResult
) -> None:
    problem = result.problem
    template = texts.PROBLEM_REPLAYED if result.replayed else texts.PROBLEM_DONE
    text = template.format(id=problem.id, status=STATUS_NAMES[problem.status])
    if problem.status == "escalated_village" and "escalate" in ledger.next_actions(member, problem):
        text += "\n" + texts.ESCALATE_FURTHER.format(id=problem.id)
    await reply(message, text, reply_markup=problem_keyboard(ledger, member, problem))


@routes.message(command("issue"))
async def issue(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    head, _, description = (command.args or "").strip().partition(" ")
    if not head or not description.strip():
        await reply(message, texts.PROBLEM_USAGE.format(usage="/问题 张三 屋顶漏雨"))
        return
    if len(description) > MAX_INPUT:
        await reply(message, texts.TOO_LONG.format(n=len(description), limit=MAX_INPUT))
        return
    try:
        household = ledger.find_household(member, head)
        problem = ledger.open_problem(member, household.id, description, client_key(message))
    except Ambiguous as exc:
        await reply(message, candidate_text(exc, texts.CANDIDATES_ISSUE))
        return
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await reply(
        message,
        describe(ledger, problem, member=member),
        reply_markup=problem_keyboard(ledger, member, problem),
    )


async def _typed_step(
    message: Message, ledger: LedgerService, member: Member, action: str, args: str | None
) -> None:
    """One typed command = one step of the lifecycle table."""
    key = client_key(message)
    try:
        if action == "escalate":
            problem_id, to_level, note = grammar.escalation(args)
            result = ledger.escalate(member, problem_id, key, note=note, to_level=to_level)
        else:
            problem_id, rest = grammar.number_and_rest(args)
            if len(rest) > MAX_INPUT:
                await reply(message, texts.TOO_LONG.format(n=len(rest), limit=MAX_INPUT))
                return
            if action == "follow_up":
                verdict = grammar.words(rest)[0] if rest else ""
                result = ledger.follow_up(member, problem_id, verdict, key)
            elif action == "close":
                result = ledger.close(member, problem_id, key)
            else:
                result = ledger.move(member, problem_id, action, key, None, result=rest)
    except grammar.UsageError:
        await reply(message, texts.PROBLEM_USAGE.format(usage=USAGE[action]))
        return
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await _answer_step(message, ledger, member, result)


def _register_typed_steps() -> None:
    for action, spec in ACTIONS.items():

        async def handler(
            message: Message,
            command: CommandObject,
            ledger: LedgerService,
            member,
            action: str = action,
        ) -> None:
            await _typed_step(message, ledger, member, action, command.args)

        handler.__name__ = f"typed_{action}"
        routes.message(command(spec.command))(handler)


_register_typed_steps()


@routes.message(command("mine"))
async def mine(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    try:
        page_number = grammar.page_number(command.args)
    except grammar.UsageError:
        await reply(message, texts.PROBLEM_USAGE.format(usage="/我的 或 /我的 2"))
        return
    page = ledger.problem_page(member, page_number)
    if not page.total:
        await reply(message, texts.NO_PROBLEMS)
        return
    if not page.items:
        await reply(message, texts.MINE_NO_PAGE.format(page=page_number, pages=page.pages))
        return
    await reply(
        message,
        texts.MINE_HEADER.format(
            total=page.total,
            open=page.open,
            overdue=len(page.overdue),
            awaiting=page.awaiting,
            page=page.page,
            pages=page.pages,
        ),
    )
    for problem in page.items:
        await reply(
            message,
            describe(ledger, problem, overdue=problem.id in page.overdue, member=member),
            reply_markup=problem_keyboard(ledger, member, problem),
        )
    if page.remaining:
        await reply(message, texts.MINE_MORE.format(n=page.remaining, next=page.page + 1))


@routes.callback_query(ProblemButton.filter())
async def button(
    call: CallbackQuery,
    callback_data: ProblemButton,
    ledger: LedgerService,
    member,
    state: FSMContext,
) -> None:
    problem_id, action, version = callback_data.id, callback_data.action, callback_data.version
    if action in ("solve_on_spot", "resolve"):  # a result needs words: ask for them
        try:
            problem = ledger.problem(member, problem_id)
        except LedgerError as exc:
            await call.answer(str(exc)[:190], show_alert=True)
            return
        if problem.version != version:
            await call.answer(texts.BUTTON_STALE, show_alert=True)
            return
        await state.set_state(ResultForm.result)
        await state.update_data(problem_id=problem_id, version=version, action=action)
        await call.answer()
        await call.message.answer(texts.SOLVE_ASK.format(id=problem_id))
        return
    key = f"cb:{call.message.chat.id}:{call.message.message_id}:{action}:{version}"
    try:
        if action.startswith("fu"):
            result = ledger.follow_up(
                member, problem_id, SATISFACTION[int(action[2])], key, expected_version=version
            )
        else:
            result = ledger.move(member, problem_id, action, key, version)
    except LedgerError as exc:
        await call.answer(str(exc)[:190], show_alert=True)
        return
    template = texts.PROBLEM_REPLAYED if result.replayed else texts.PROBLEM_DONE
    await call.answer(template.format(id=problem_id, status=STATUS_NAMES[result.problem.status]))
    if not result.replayed:
        await call.message.answer(
            describe(ledger, result.problem, member=member),
            reply_markup=problem_keyboard(ledger, member, result.problem),
        )


@routes.message(StateFilter(ResultForm.result), F.text, ~F.text.startswith(("/", "／")))
async def typed_result(message: Message, ledger: LedgerService, member, state: FSMContext) -> None:
    data = await state.get_data()
    if len(message.text) > MAX_INPUT:
        await reply(message, texts.TOO_LONG.format(n=len(message.text), limit=MAX_INPUT))
        return
    try:
        result = ledger.move(
            member,
            data["problem_id"],
            data["action"],
            client_key(message),
            data["version"],
            result=message.text,
        )
    except LedgerError as exc:
        await state.clear()
        await reply(message, str(exc))
        return
    await state.clear()
    await _answer_step(message, ledger, member, result)
