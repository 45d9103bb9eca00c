"""The records storage hands out, and the role names they depend on. Storage owns them so that
`bot/ledger` never imports from the services above it."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("volunteer", "grid_leader", "village_coordinator", "township_coordinator", "admin")
COORDINATORS = ("village_coordinator", "township_coordinator", "admin")


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
