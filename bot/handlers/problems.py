"""Problems: /问题, /办结, /上报, /回访, /我的, and the inline buttons for the next allowed step.

Button data is `p:<id>:<action>:<version>`: the version makes a stale button harmless (the
service refuses it as a conflict) and, with the message id, gives a double tap the same client
key, so the second tap changes nothing."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import texts
from bot.handlers.common import Routes, client_key, command, need_member, reply
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import (
    SATISFACTION,
    STATUS_NAMES,
    Ambiguous,
    LedgerError,
    Member,
    Problem,
)

routes = Routes("problems")
BUTTON_ACTIONS = ("escalate", "solve_on_spot", "resolve", "follow_up", "close")


def problem_keyboard(
    ledger: LedgerService, member: Member, problem: Problem
) -> InlineKeyboardMarkup | None:
    """One button per step of the lifecycle table the member may take now and that needs no
    typed text (a result needs words: those steps are typed commands)."""
    buttons = []
    for move in ledger.next_moves(member, problem):
        if move.action == "follow_up":
            data = f"p:{problem.id}:fu{SATISFACTION.index(move.verdicts[0])}:{problem.version}"
        elif move.action in ("escalate", "close"):
            data = f"p:{problem.id}:{move.action}:{problem.version}"
        else:
            continue
        buttons.append(InlineKeyboardButton(text=move.label, callback_data=data))
    return InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons]) if buttons else None


def describe(ledger: LedgerService, problem: Problem) -> str:
    return texts.PROBLEM_LINE.format(
        id=problem.id,
        household=ledger.household_name(problem.household_id),
        status=STATUS_NAMES[problem.status],
        description=problem.description[:60],
        deadline=ledger.local(problem.deadline).strftime("%m-%d"),
    )


def _id_and_rest(args: str | None) -> tuple[int, str]:
    head, _, rest = (args or "").strip().partition(" ")
    return int(head.lstrip("#")), rest.strip()


@routes.message(command("issue"))
async def issue(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    if not await need_member(message, member):
        return
    head, _, description = (command.args or "").strip().partition(" ")
    if not head or not description.strip():
        await reply(message, texts.PROBLEM_USAGE.format(usage="/问题 张三 屋顶漏雨"))
        return
    try:
        household = ledger.find_household(member, head)
        problem = ledger.open_problem(member, household.id, description, client_key(message))
    except Ambiguous as exc:
        await reply(message, str(exc) + " " + "、".join(h.label for h in exc.candidates))
        return
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    await reply(
        message, describe(ledger, problem), reply_markup=problem_keyboard(ledger, member, problem)
    )


async def _transition(
    message: Message,
    ledger: LedgerService,
    member: Member,
    action: str,
    args: str | None,
    usage: str,
) -> None:
    try:
        problem_id, rest = _id_and_rest(args)
    except ValueError:
        await reply(message, texts.PROBLEM_USAGE.format(usage=usage))
        return
    key = client_key(message)
    try:
        if action == "resolve":
            result = ledger.resolve(member, problem_id, rest, key)
        elif action == "escalate":
            result = ledger.escalate(member, problem_id, key, note=rest)
        else:
            result = ledger.follow_up(member, problem_id, rest.split(" ")[0] if rest else "", key)
    except LedgerError as exc:
        await reply(message, str(exc))
        return
    template = texts.PROBLEM_REPLAYED if result.replayed else texts.PROBLEM_DONE
    await reply(
        message,
        template.format(id=problem_id, status=STATUS_NAMES[result.problem.status]),
        reply_markup=problem_keyboard(ledger, member, result.problem),
    )


@routes.message(command("resolve"))
async def resolve(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    if await need_member(message, member):
        await _transition(
            message, ledger, member, "resolve", command.args, "/办结 12 已帮助申请残疾人证"
        )


@routes.message(command("escalate"))
async def escalate(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    if await need_member(message, member):
        await _transition(message, ledger, member, "escalate", command.args, "/上报 12")


@routes.message(command("followup"))
async def followup(message: Message, command: CommandObject, ledger: LedgerService, member) -> None:
    if await need_member(message, member):
        await _transition(message, ledger, member, "follow_up", command.args, "/回访 12 满意")


@routes.message(command("mine"))
async def mine(message: Message, ledger: LedgerService, member) -> None:
    if not await need_member(message, member):
        return
    problems = ledger.my_problems(member)
    if not problems:
        await reply(message, texts.NO_PROBLEMS)
        return
    for problem in problems[:10]:
        await reply(
            message,
            describe(ledger, problem),
            reply_markup=problem_keyboard(ledger, member, problem),
        )


@routes.callback_query(F.data.startswith("p:"))
async def button(call: CallbackQuery, ledger: LedgerService, member) -> None:
    if not await need_member(call, member):
        return
    parts = call.data.split(":")
    valid = len(parts) == 4 and parts[1].isdigit() and parts[3].isdigit()
    action = parts[2] if valid else ""
    if not valid or not (action in BUTTON_ACTIONS or action in ("fu0", "fu1", "fu2")):
        await call.answer(texts.BUTTON_BAD, show_alert=True)
        return
    problem_id, version = int(parts[1]), int(parts[3])
    key = f"cb:{call.message.chat.id}:{call.message.message_id}:{action}:{version}"
    try:
        if action.startswith("fu"):
            result = ledger.follow_up(
                member, problem_id, SATISFACTION[int(action[2])], key, expected_version=version
            )
        elif action == "escalate":
            result = ledger.escalate(member, problem_id, key, expected_version=version)
        elif action == "close":
            result = ledger.close(member, problem_id, key, expected_version=version)
        else:
            await call.answer(
                texts.BUTTON_BAD, show_alert=True
            )  # results need text: use the command
            return
    except LedgerError as exc:
        await call.answer(str(exc)[:190], show_alert=True)
        return
    template = texts.PROBLEM_REPLAYED if result.replayed else texts.PROBLEM_DONE
    await call.answer(template.format(id=problem_id, status=STATUS_NAMES[result.problem.status]))
    if not result.replayed:
        await call.message.answer(
            describe(ledger, result.problem),
            reply_markup=problem_keyboard(ledger, member, result.problem),
        )
