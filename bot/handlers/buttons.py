"""Button data as aiogram CallbackData classes. Each field is validated when a press arrives:
a forged or garbled button (letters for a number, ², a twenty-digit id, an unknown action)
matches no class and is answered by the fallback router, never by a traceback."""

from __future__ import annotations

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import BeforeValidator

from bot.services.command_grammar import MAX_DIGITS


def _plain_number(value: object) -> int:
    """ASCII digits only, at most MAX_DIGITS of them (pydantic alone would take ' 12' or '١٢')."""
    text = str(value)
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= MAX_DIGITS):
        raise ValueError("not a record number")
    return int(text)


Number = Annotated[int, BeforeValidator(_plain_number)]
# short codes keep the data far below Telegram's 64 bytes; fu0..fu2 are the three answers of
# a return visit (lifecycle.SATISFACTION order)
ProblemStep = Literal["escalate", "solve_on_spot", "resolve", "fu0", "fu1", "fu2", "close"]


class ProblemButton(CallbackData, prefix="p"):
    """A step of the lifecycle table on one problem, at the version the button was made for."""

    id: Number
    action: ProblemStep
    version: Number


class HouseholdPick(CallbackData, prefix="vf"):
    """A household chosen for the guided visit form."""

    kind: Literal["h"]
    id: Number


class FormStep(CallbackData, prefix="vf"):
    """The visit form's own buttons: no problem to record; save."""

    step: Literal["noproblem", "ok"]


class InviteStep(CallbackData, prefix="inv"):
    """The inviter's yes to an invite that creates a member the roster lacks."""

    step: Literal["ok"]
