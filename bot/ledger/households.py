"""Households (联系户) and which of them a member may see."""

from __future__ import annotations

from bot.ledger.db import now_utc
from bot.ledger.records import Household, Member
from bot.ledger.rows import all_rows, one, scope_clause


def _household(row) -> Household:
    tags = tuple(t for t in row["tags"].split(",") if t)
    return Household(
        row["id"],
        row["village"],
        row["grid"],
        row["head_name"],
        row["house_number"],
        row["size"],
        row["phone"],
        tags,
        row["volunteer_id"],
    )


def insert_household(
    db,
    village: str,
    head_name: str,
    grid: str = "",
    house_number: str = "",
    size: int = 1,
    phone: str = "",
    tags: tuple[str, ...] = (),
    volunteer_id: int | None = None,
    at: str | None = None,
) -> int:
    return db.execute(
        "INSERT INTO households(village, grid, head_name, house_number, size, phone, tags, "
        "volunteer_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            village,
            grid,
            head_name,
            house_number,
            size,
            phone,
            ",".join(tags),
            volunteer_id,
            at or now_utc(),
        ],
    ).lastrowid


def household(db, household_id: int) -> Household | None:
    row = one(db, "SELECT * FROM households WHERE id=?", [household_id])
    return _household(row) if row else None


def visible_households(db, viewer: Member) -> list[Household]:
    where, params = scope_clause(viewer)
    return [
        _household(r)
        for r in all_rows(db, f"SELECT * FROM households h WHERE {where} ORDER BY h.id", params)
    ]


def can_see_household(db, viewer: Member, household_id: int) -> bool:
    where, params = scope_clause(viewer)
    return bool(
        one(
            db,
            f"SELECT 1 AS ok FROM households h WHERE h.id=? AND {where}",
            [household_id, *params],
        )
    )
