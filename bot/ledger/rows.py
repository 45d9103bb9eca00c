"""Small helpers every storage module shares: rows as dicts, and the scope conditions."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from bot.ledger.records import Member


def one(db: sqlite_utils.Database, sql: str, params: list[Any]) -> dict | None:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return dict(zip(names, row, strict=True)) if row else None


def all_rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def scope_clause(member: Member, alias: str = "h") -> tuple[str, list[Any]]:
    """SQL condition on households a member may see: their own (volunteer), their grid (grid
    leader), their village (village coordinator), everything (township, admin)."""
    if member.role == "volunteer":
        return f"{alias}.volunteer_id = ?", [member.id]
    if member.role == "grid_leader":
        return f"({alias}.village = ? AND {alias}.grid = ?)", [member.village, member.grid]
    if member.role == "village_coordinator":
        return f"{alias}.village = ?", [member.village]
    return "1 = 1", []


def village_clause(village: str | None, alias: str = "h") -> tuple[str, list[Any]]:
    return (f"{alias}.village = ?", [village]) if village else ("1 = 1", [])


def marks(values) -> str:
    return ",".join("?" * len(values))
