"""Storage for the roster import: everyone and every household at once, and field updates.
Kept apart from members.py and households.py because only the import reads the whole roster
and rewrites fields of rows that already exist."""

from __future__ import annotations

from typing import Any

from bot.ledger.households import _household
from bot.ledger.records import Household
from bot.ledger.rows import all_rows

MEMBER_FIELDS = ("role", "grid", "phone")
HOUSEHOLD_FIELDS = ("grid", "head_name", "house_number", "size", "phone", "tags", "volunteer_id")


def all_households(db) -> list[Household]:
    return [_household(r) for r in all_rows(db, "SELECT * FROM households ORDER BY id", [])]


def update_member(db, member_id: int, **fields: Any) -> None:
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:  # column names go into SQL: only the known ones
        raise ValueError(f"not a member field: {unknown}")
    sets = ", ".join(f"{k}=?" for k in fields)
    db.execute(f"UPDATE members SET {sets} WHERE id=?", [*fields.values(), member_id])


def update_household(db, household_id: int, **fields: Any) -> None:
    unknown = set(fields) - set(HOUSEHOLD_FIELDS)
    if unknown:
        raise ValueError(f"not a household field: {unknown}")
    values = [",".join(v) if k == "tags" else v for k, v in fields.items()]
    sets = ", ".join(f"{k}=?" for k in fields)
    db.execute(f"UPDATE households SET {sets} WHERE id=?", [*values, household_id])
