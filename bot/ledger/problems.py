"""Problems and their events. A move is a compare-and-set on `version` plus one event row whose
client key is UNIQUE, so a replayed move stores nothing twice."""

from __future__ import annotations

from typing import Any

from bot.ledger.db import now_utc
from bot.ledger.records import Member, Problem
from bot.ledger.rows import all_rows, marks, one, scope_clause


def _problem(row) -> Problem:
    return Problem(
        row["id"],
        row["household_id"],
        row["visit_id"],
        row["reporter_id"],
        row["category"],
        row["description"],
        row["level"],
        row["status"],
        row["deadline"],
        row["result"],
        row["satisfaction"],
        row["opened_at"],
        row["resolved_at"],
        row["closed_at"],
        row["version"],
    )


def problem(db, problem_id: int) -> Problem | None:
    row = one(db, "SELECT * FROM problems WHERE id=?", [problem_id])
    return _problem(row) if row else None


def problem_by_key(db, client_key: str) -> Problem | None:
    row = one(db, "SELECT * FROM problems WHERE client_key=?", [client_key])
    return _problem(row) if row else None


def insert_problem(
    db,
    household_id: int,
    visit_id: int | None,
    reporter_id: int,
    category: str,
    description: str,
    level: str,
    status: str,
    deadline: str,
    opened_at: str,
    client_key: str,
) -> int:
    return db.execute(
        "INSERT INTO problems(household_id, visit_id, reporter_id, category, description, level, "
        "status, deadline, opened_at, client_key) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            household_id,
            visit_id,
            reporter_id,
            category,
            description,
            level,
            status,
            deadline,
            opened_at,
            client_key,
        ],
    ).lastrowid


def update_problem(db, problem_id: int, expected_version: int, **fields: Any) -> bool:
    """Compare-and-set: True when the row still had the expected version and was updated."""
    sets = ", ".join(f"{k}=?" for k in fields)
    cursor = db.execute(
        f"UPDATE problems SET {sets}, version=version+1 WHERE id=? AND version=?",
        [*fields.values(), problem_id, expected_version],
    )
    return cursor.rowcount == 1


def event_by_key(db, client_key: str) -> dict | None:
    return one(db, "SELECT * FROM problem_events WHERE client_key=?", [client_key])


def insert_event(
    db,
    problem_id: int,
    actor_id: int,
    action: str,
    from_status: str,
    to_status: str,
    note: str,
    client_key: str,
    at: str | None = None,
) -> int:
    return db.execute(
        "INSERT INTO problem_events(problem_id, actor_id, action, from_status, to_status, note, at, "
        "client_key) VALUES (?,?,?,?,?,?,?,?)",
        [problem_id, actor_id, action, from_status, to_status, note, at or now_utc(), client_key],
    ).lastrowid


def last_event(db, problem_id: int) -> dict | None:
    return one(
        db,
        "SELECT e.*, m.name AS actor_name FROM problem_events e JOIN members m "
        "ON m.id = e.actor_id WHERE problem_id=? ORDER BY e.id DESC LIMIT 1",
        [problem_id],
    )


def problems_in_scope(
    db, viewer: Member, statuses: tuple[str, ...] | None = None, limit: int = 50
) -> list[Problem]:
    where, params = scope_clause(viewer)
    status_sql = ""
    if statuses:
        status_sql = f"AND p.status IN ({marks(statuses)})"
        params = [*params, *statuses]
    rows = all_rows(
        db,
        f"SELECT p.* FROM problems p JOIN households h ON h.id = p.household_id "
        f"WHERE {where} {status_sql} ORDER BY p.deadline, p.id LIMIT ?",
        [*params, limit],
    )
    return [_problem(r) for r in rows]
