"""The ledger's vocabulary: roles, problem states, and the records services hand out."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("volunteer", "grid_leader", "village_coordinator", "township_coordinator", "admin")
ROLE_NAMES = {
    "volunteer": "联户党员",
    "grid_leader": "网格长",
    "village_coordinator": "村级管理员",
    "township_coordinator": "乡镇管理员",
    "admin": "系统管理员",
}
COORDINATORS = ("village_coordinator", "township_coordinator", "admin")
METHODS = ("入户", "电话", "线上")
SPECIAL_TAGS = ("低保户", "特困户", "五保户", "空巢老人", "重病", "重残", "留守儿童", "脱贫监测户")

# Problem lifecycle. Levels say who must act now; statuses say where the item stands.
LEVELS = ("volunteer", "village", "township")
LEVEL_NAMES = {"volunteer": "联户党员", "village": "村级", "township": "乡镇"}
STATUS_NAMES = {
    "recorded": "已登记",
    "solved_on_spot": "当场解决",
    "escalated_village": "已上报村级",
    "escalated_township": "已上报乡镇",
    "resolved": "已办结",
    "followed_up": "已回访",
    "closed": "已销号",
}
OPEN_STATUSES = ("recorded", "escalated_village", "escalated_township")
DONE_STATUSES = ("solved_on_spot", "resolved", "followed_up", "closed")
SATISFACTION = ("满意", "基本满意", "不满意")


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


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    role: str
    village: str = ""
    grid: str = ""
    telegram_id: int | None = None
    phone: str = ""

    @property
    def is_coordinator(self) -> bool:
        return self.role in COORDINATORS


@dataclass(frozen=True)
class Household:
    id: int
    village: str
    grid: str
    head_name: str
    house_number: str
    size: int
    phone: str
    tags: tuple[str, ...]
    volunteer_id: int | None

    @property
    def label(self) -> str:
        number = f"（{self.house_number}）" if self.house_number else ""
        return f"{self.village}{self.head_name}家{number}"


@dataclass(frozen=True)
class Visit:
    id: int
    household_id: int
    member_id: int
    visited_at: str  # ISO UTC
    method: str
    situation: str
    requests: str
    policies: str
    location: str = ""
    photos: tuple[str, ...] = ()
    supersedes: int | None = None


@dataclass(frozen=True)
class Problem:
    id: int
    household_id: int
    visit_id: int | None
    reporter_id: int
    category: str
    description: str
    level: str
    status: str
    deadline: str
    result: str
    satisfaction: str
    opened_at: str
    resolved_at: str
    closed_at: str
    version: int


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
