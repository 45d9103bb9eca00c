"""Visits: one row per visit; a correction is a new row linked to the one it replaces."""

from __future__ import annotations

import json

from bot.ledger.db import now_utc
from bot.ledger.records import Visit
from bot.ledger.rows import marks, one


def _visit(row) -> Visit:
    photos = tuple(json.loads(row["photos"])) if row["photos"] else ()
    return Visit(
        row["id"],
        row["household_id"],
        row["member_id"],
        row["visited_at"],
        row["method"],
        row["situation"],
        row["requests"],
        row["policies"],
        row["location"],
        photos,
        row["supersedes"],
    )


def visit_by_key(db, client_key: str) -> Visit | None:
    row = one(db, "SELECT * FROM visits WHERE client_key=?", [client_key])
    return _visit(row) if row else None


def visit(db, visit_id: int) -> Visit | None:
    row = one(db, "SELECT * FROM visits WHERE id=?", [visit_id])
    return _visit(row) if row else None


def insert_visit(
    db,
    household_id: int,
    member_id: int,
    visited_at: str,
    method: str,
    situation: str,
    requests: str,
    policies: str,
    client_key: str,
    supersedes: int | None = None,
    at: str | None = None,
) -> int:
    visit_id = db.execute(
        "INSERT INTO visits(household_id, member_id, visited_at, method, situation, requests, "
        "policies, supersedes, client_key, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            household_id,
            member_id,
            visited_at,
            method,
            situation,
            requests,
            policies,
            supersedes,
            client_key,
            at or now_utc(),
        ],
    ).lastrowid
    if supersedes:
        db.execute("UPDATE visits SET superseded_by=? WHERE id=?", [visit_id, supersedes])
    return visit_id


def visit_created_at(db, visit_id: int) -> str:
    return db.execute("SELECT created_at FROM visits WHERE id=?", [visit_id]).fetchone()[0]


def superseded_by(db, visit_id: int) -> int | None:
    """The id of the correction that replaced this visit, if any."""
    row = db.execute("SELECT superseded_by FROM visits WHERE id=?", [visit_id]).fetchone()
    return row[0] if row else None


def visit_client_key(db, visit_id: int) -> str:
    return db.execute("SELECT client_key FROM visits WHERE id=?", [visit_id]).fetchone()[0]


def last_visit_of(db, member_id: int) -> Visit | None:
    row = one(
        db,
        "SELECT * FROM visits WHERE member_id=? AND superseded_by IS NULL "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        [member_id],
    )
    return _visit(row) if row else None


def set_visit_attachment(db, visit_id: int, location: str | None, photos: list[str] | None) -> None:
    if location is not None:
        db.execute("UPDATE visits SET location=? WHERE id=?", [location, visit_id])
    if photos is not None:
        db.execute("UPDATE visits SET photos=? WHERE id=?", [json.dumps(photos), visit_id])


def last_visits(db, household_ids: list[int]) -> dict[int, str]:
    """household id → time of its latest current visit."""
    if not household_ids:
        return {}
    rows = db.execute(
        f"SELECT household_id, max(visited_at) FROM visits WHERE superseded_by IS NULL "
        f"AND household_id IN ({marks(household_ids)}) GROUP BY household_id",
        household_ids,
    ).fetchall()
    return dict(rows)
