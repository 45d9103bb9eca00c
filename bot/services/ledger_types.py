"""The ledger's vocabulary for the layers above storage: roles, refusals, and what the service
hands back. Records come from `bot/ledger/records.py` and problem states from the lifecycle
table; both are re-exported here so handlers import one module."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.ledger.records import COORDINATORS, ROLES, Household, Member, Problem, Visit
from bot.services.lifecycle import (
    DONE_STATUSES,
    LEVEL_NAMES,
    LEVELS,
    OPEN_STATUSES,
    SATISFACTION,
    STATUS_NAMES,
)

__all__ = [
    "COORDINATORS",
    "DONE_STATUSES",
    "LEVELS",
    "LEVEL_NAMES",
    "METHODS",
    "OPEN_STATUSES",
    "ROLES",
    "ROLE_NAMES",
    "SATISFACTION",
    "SPECIAL_TAGS",
    "STATUS_NAMES",
    "Ambiguous",
    "Conflict",
    "Household",
    "LedgerError",
    "Member",
    "NotAllowed",
    "NotFound",
    "Problem",
    "TransitionResult",
    "Visit",
    "VisitResult",
]

ROLE_NAMES = {
    "volunteer": "联户党员",
    "grid_leader": "网格长",
    "village_coordinator": "村级管理员",
    "township_coordinator": "乡镇管理员",
    "admin": "系统管理员",
}
METHODS = ("入户", "电话", "线上")
SPECIAL_TAGS = ("低保户", "特困户", "五保户", "空巢老人", "重病", "重残", "留守儿童", "脱贫监测户")


class LedgerError(Exception):
    """A refusal the user should read: the message is one clear Chinese sentence."""


class NotAllowed(LedgerError):
    pass


class NotFound(LedgerError):
    pass


class Conflict(LedgerError):
    """Someone else changed the item first."""


class Ambiguous(LedgerError):
    def __init__(self, message: str, candidates: list[Household]):
        super().__init__(message)
        self.candidates = candidates


@dataclass
class VisitResult:
    visit: Visit
    household: Household
    problem: Problem | None = None
    replayed: bool = False  # the same client key was seen before: nothing new was stored
    masked_ids: int = 0  # ID numbers found in the text and masked before storage
    notes: list[str] = field(default_factory=list)


@dataclass
class TransitionResult:
    problem: Problem
    replayed: bool = False
