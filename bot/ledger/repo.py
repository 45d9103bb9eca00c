"""Queries over the ledger. Every function takes the database first; callers that read then
write wrap the calls in `db.transaction(...)`."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from bot.ledger.db import now_utc
from bot.services.ledger_types import Household, Member, Problem, Visit


# -- scope ------------------------------------------------------------------------------------
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


# -- rows → records -------------------------------------------------------------------------
def _member(row) -> Member:
    return Member(
        row["id"],
        row["name"],
        row["role"],
        row["village"],
        row["grid"],
        row["telegram_id"],
        row["phone"],
    )


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


def _one(db: sqlite_utils.Database, sql: str, params: list[Any]):
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return dict(zip(names, row, strict=True)) if row else None


def _all(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- members ----------------------------------------------------------------------------------
def insert_member(
    db,
    name: str,
    role: str,
    village: str = "",
    grid: str = "",
    phone: str = "",
    telegram_id: int | None = None,
) -> int:
    return db.execute(
        "INSERT INTO members(name, role, village, grid, phone, telegram_id, created_at) "
        "VALUES (?,?,?,?,?,?,?)",
        [name, role, village, grid, phone, telegram_id, now_utc()],
    ).lastrowid


def member(db, member_id: int) -> Member | None:
    row = _one(db, "SELECT * FROM members WHERE id=?", [member_id])
    return _member(row) if row else None


def member_by_telegram(db, telegram_id: int) -> Member | None:
    row = _one(db, "SELECT * FROM members WHERE telegram_id=? AND active=1", [telegram_id])
    return _member(row) if row else None


def members_named(db, name: str) -> list[Member]:
    return [_member(r) for r in _all(db, "SELECT * FROM members WHERE name=? AND active=1", [name])]


def members_with_role(db, roles: tuple[str, ...], village: str | None = None) -> list[Member]:
    marks = ",".join("?" * len(roles))
    where, params = ("AND village=?", [village]) if village else ("", [])
    rows = _all(
        db,
        f"SELECT * FROM members WHERE active=1 AND role IN ({marks}) {where} ORDER BY id",
        [*roles, *params],
    )
    return [_member(r) for r in rows]


def bind_telegram(db, member_id: int, telegram_id: int) -> None:
    db.execute("UPDATE members SET telegram_id=? WHERE id=?", [telegram_id, member_id])


# -- households ---------------------------------------------------------------------------------
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
            now_utc(),
        ],
    ).lastrowid


def household(db, household_id: int) -> Household | None:
    row = _one(db, "SELECT * FROM households WHERE id=?", [household_id])
    return _household(row) if row else None


def visible_households(db, viewer: Member) -> list[Household]:
    where, params = scope_clause(viewer)
    return [
        _household(r)
        for r in _all(db, f"SELECT * FROM households h WHERE {where} ORDER BY h.id", params)
    ]


def can_see_household(db, viewer: Member, household_id: int) -> bool:
    where, params = scope_clause(viewer)
    return bool(
        _one(
            db,
            f"SELECT 1 AS ok FROM households h WHERE h.id=? AND {where}",
            [household_id, *params],
        )
    )


# -- visits ---------------------------------------------------------------------------------------
def visit_by_key(db, client_key: str) -> Visit | None:
    row = _one(db, "SELECT * FROM visits WHERE client_key=?", [client_key])
    return _visit(row) if row else None


def visit(db, visit_id: int) -> Visit | None:
    row = _one(db, "SELECT * FROM visits WHERE id=?", [visit_id])
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
            now_utc(),
        ],
    ).lastrowid
    if supersedes:
        db.execute("UPDATE visits SET superseded_by=? WHERE id=?", [visit_id, supersedes])
    return visit_id


def visit_created_at(db, visit_id: int) -> str:
    return db.execute("SELECT created_at FROM visits WHERE id=?", [visit_id]).fetchone()[0]


def visit_client_key(db, visit_id: int) -> str:
    return db.execute("SELECT client_key FROM visits WHERE id=?", [visit_id]).fetchone()[0]


def last_visit_of(db, member_id: int) -> Visit | None:
    row = _one(
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
    marks = ",".join("?" * len(household_ids))
    rows = db.execute(
        f"SELECT household_id, max(visited_at) FROM visits WHERE superseded_by IS NULL "
        f"AND household_id IN ({marks}) GROUP BY household_id",
        household_ids,
    ).fetchall()
    return dict(rows)


# -- problems -------------------------------------------------------------------------------------
def problem(db, problem_id: int) -> Problem | None:
    row = _one(db, "SELECT * FROM problems WHERE id=?", [problem_id])
    return _problem(row) if row else None


def problem_by_key(db, client_key: str) -> Problem | None:
    row = _one(db, "SELECT * FROM problems WHERE client_key=?", [client_key])
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
    return _one(db, "SELECT * FROM problem_events WHERE client_key=?", [client_key])


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
    return _one(
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
        status_sql = f"AND p.status IN ({','.join('?' * len(statuses))})"
        params = [*params, *statuses]
    rows = _all(
        db,
        f"SELECT p.* FROM problems p JOIN households h ON h.id = p.household_id "
        f"WHERE {where} {status_sql} ORDER BY p.deadline, p.id LIMIT ?",
        [*params, limit],
    )
    return [_problem(r) for r in rows]


# -- invites -----------------------------------------------------------------------------------
def insert_invite(
    db, code: str, role: str, village: str, grid: str, name: str, created_by: int
) -> None:
    db.execute(
        "INSERT INTO invites(code, role, village, grid, name, created_by, created_at) "
        "VALUES (?,?,?,?,?,?,?)",
        [code, role, village, grid, name, created_by, now_utc()],
    )


def invite(db, code: str) -> dict | None:
    return _one(db, "SELECT * FROM invites WHERE code=?", [code])


def use_invite(db, code: str, member_id: int) -> None:
    db.execute("UPDATE invites SET used_by=?, used_at=? WHERE code=?", [member_id, now_utc(), code])


# -- audit ---------------------------------------------------------------------------------------
def audit(
    db,
    actor_id: int | None,
    entity: str,
    entity_id: int,
    action: str,
    before: Any = None,
    after: Any = None,
) -> None:
    def dump(value):
        if value is None:
            return ""
        return json.dumps(
            value if isinstance(value, dict) else value.__dict__, ensure_ascii=False, default=str
        )

    db.execute(
        "INSERT INTO audit(at, actor_id, entity, entity_id, action, before, after) "
        "VALUES (?,?,?,?,?,?,?)",
        [now_utc(), actor_id, entity, entity_id, action, dump(before), dump(after)],
    )


def audit_rows(db, entity: str, entity_id: int) -> list[dict]:
    return _all(
        db, "SELECT * FROM audit WHERE entity=? AND entity_id=? ORDER BY id", [entity, entity_id]
    )


# -- digest --------------------------------------------------------------------------------------
def digest_counts(db, start: str, end: str, village: str | None) -> dict:
    """The weekly figures for visits and problems between two UTC instants [start, end)."""
    where, params = village_clause(village)
    one = lambda sql, extra=(): db.execute(sql, [*extra, *params]).fetchone()[0]  # noqa: E731
    counts = {
        "visits": one(
            f"SELECT count(*) FROM visits v JOIN households h ON h.id=v.household_id "
            f"WHERE v.superseded_by IS NULL AND v.visited_at >= ? AND v.visited_at < ? AND {where}",
            (start, end),
        ),
        "households_assigned": one(
            f"SELECT count(*) FROM households h WHERE h.volunteer_id IS NOT NULL AND {where}"
        ),
        "households_visited": one(
            f"SELECT count(DISTINCT v.household_id) FROM visits v JOIN households h ON h.id=v.household_id "
            f"WHERE v.superseded_by IS NULL AND v.visited_at >= ? AND v.visited_at < ? AND {where}",
            (start, end),
        ),
        "problems_new": one(
            f"SELECT count(*) FROM problems p JOIN households h ON h.id=p.household_id "
            f"WHERE p.opened_at >= ? AND p.opened_at < ? AND {where}",
            (start, end),
        ),
    }
    for action, key in (
        ("solve_on_spot", "problems_solved_on_spot"),
        ("escalate", "problems_escalated"),
        ("resolve", "problems_resolved"),
    ):
        counts[key] = one(
            f"SELECT count(DISTINCT e.problem_id) FROM problem_events e JOIN problems p ON p.id=e.problem_id "
            f"JOIN households h ON h.id=p.household_id WHERE e.action=? AND e.at >= ? AND e.at < ? AND {where}",
            (action, start, end),
        )
    counts["problems_opened_to_date"] = one(
        f"SELECT count(*) FROM problems p JOIN households h ON h.id=p.household_id "
        f"WHERE p.opened_at < ? AND {where}",
        (end,),
    )
    counts["problems_done_to_date"] = one(
        f"SELECT count(*) FROM problems p JOIN households h ON h.id=p.household_id WHERE p.opened_at < ? "
        f"AND p.resolved_at != '' AND p.resolved_at < ? AND {where}",
        (end, end),
    )
    counts["problems_overdue"] = one(
        f"SELECT count(*) FROM problems p JOIN households h ON h.id=p.household_id WHERE p.opened_at < ? "
        f"AND (p.resolved_at = '' OR p.resolved_at >= ?) AND p.status NOT IN ('closed') "
        f"AND p.deadline < ? AND {where}",
        (end, end, end),
    )
    on_time = db.execute(
        f"SELECT count(*), sum(p.resolved_at <= p.deadline) FROM problems p JOIN households h "
        f"ON h.id=p.household_id WHERE p.resolved_at >= ? AND p.resolved_at < ? AND {where}",
        [start, end, *params],
    ).fetchone()
    counts["resolved_in_week"], counts["resolved_on_time"] = on_time[0], on_time[1] or 0
    satisfaction = db.execute(
        f"SELECT count(*), sum(e.note IN ('满意','基本满意')) FROM problem_events e JOIN problems p "
        f"ON p.id=e.problem_id JOIN households h ON h.id=p.household_id WHERE e.action='follow_up' "
        f"AND e.at < ? AND {where}",
        [end, *params],
    ).fetchone()
    counts["followups_to_date"], counts["satisfied_to_date"] = satisfaction[0], satisfaction[1] or 0
    return counts


def members_without_visits(db, start: str, end: str, village: str | None) -> list[str]:
    where, params = ("AND m.village = ?", [village]) if village else ("", [])
    rows = db.execute(
        f"SELECT m.name FROM members m WHERE m.active=1 AND m.role='volunteer' {where} AND NOT EXISTS "
        f"(SELECT 1 FROM visits v WHERE v.member_id=m.id AND v.superseded_by IS NULL "
        f"AND v.visited_at >= ? AND v.visited_at < ?) ORDER BY m.village, m.name",
        [*params, start, end],
    ).fetchall()
    return [r[0] for r in rows]


def special_households(db, village: str | None, tags: list[str]) -> list[tuple[int, str]]:
    where, params = village_clause(village)
    rows = db.execute(f"SELECT h.id, h.tags FROM households h WHERE {where}", params).fetchall()
    return [(hid, t) for hid, t in rows if any(tag in t.split(",") for tag in tags)]


def households_visited_between(db, ids: list[int], start: str, end: str) -> set[int]:
    if not ids:
        return set()
    found: set[int] = set()
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0]
            for r in db.execute(
                f"SELECT DISTINCT household_id FROM visits WHERE superseded_by IS NULL AND visited_at >= ? "
                f"AND visited_at < ? AND household_id IN ({marks})",
                [start, end, *chunk],
            ).fetchall()
        )
    return found


def oldest_overdue(db, end: str, village: str | None, limit: int = 5) -> list[dict]:
    where, params = village_clause(village)
    return _all(
        db,
        f"SELECT p.id, p.description, p.deadline, p.level, h.village, h.head_name FROM problems p "
        f"JOIN households h ON h.id=p.household_id WHERE p.status IN ('recorded','escalated_village',"
        f"'escalated_township') AND p.deadline < ? AND {where} ORDER BY p.deadline LIMIT ?",
        [end, *params, limit],
    )


# -- export ----------------------------------------------------------------------------------------
def export_rows(db, village: str | None) -> dict[str, list[dict]]:
    where, params = village_clause(village)
    return {
        "visits": _all(
            db,
            f"SELECT v.id, v.visited_at, h.village, h.grid, h.head_name, h.house_number, "
            f"m.name AS member, v.method, v.situation, v.requests, v.policies, v.location, "
            f"v.supersedes FROM visits v JOIN households h ON h.id=v.household_id JOIN members m "
            f"ON m.id=v.member_id WHERE v.superseded_by IS NULL AND {where} ORDER BY v.visited_at",
            params,
        ),
        "problems": _all(
            db,
            f"SELECT p.id, p.opened_at, h.village, h.head_name, m.name AS reporter, p.category, "
            f"p.description, p.level, p.status, p.deadline, p.result, p.satisfaction, p.resolved_at, "
            f"p.closed_at FROM problems p JOIN households h ON h.id=p.household_id JOIN members m "
            f"ON m.id=p.reporter_id WHERE {where} ORDER BY p.opened_at",
            params,
        ),
        "households": _all(
            db,
            f"SELECT h.id, h.village, h.grid, h.head_name, h.house_number, h.size, h.phone, "
            f"h.tags, m.name AS volunteer FROM households h LEFT JOIN members m "
            f"ON m.id=h.volunteer_id WHERE {where} ORDER BY h.village, h.grid, h.id",
            params,
        ),
    }


# -- scheduled work ------------------------------------------------------------------------------
def delivered(db, job: str, period: str, chat_id: int) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM deliveries WHERE job=? AND period=? AND chat_id=?",
            [job, period, chat_id],
        ).fetchone()
    )


def record_delivery(db, job: str, period: str, chat_id: int) -> None:
    db.execute(
        "INSERT OR IGNORE INTO deliveries VALUES (?,?,?,?)", [job, period, chat_id, now_utc()]
    )


def run_finished(db, job: str, period: str) -> bool:
    row = db.execute(
        "SELECT finished_at FROM job_runs WHERE job=? AND period=?", [job, period]
    ).fetchone()
    return bool(row and row[0])


def record_run(db, job: str, period: str, finished: bool, sent: int = 0) -> None:
    db.execute(
        "INSERT INTO job_runs(job, period, started_at, finished_at, sent) VALUES (?,?,?,?,?) "
        "ON CONFLICT(job, period) DO UPDATE SET finished_at=excluded.finished_at, sent=excluded.sent",
        [job, period, now_utc(), now_utc() if finished else "", sent],
    )


def block_chat(db, chat_id: int) -> None:
    db.execute("INSERT OR IGNORE INTO blocked_chats VALUES (?, ?)", [chat_id, now_utc()])


def is_blocked(db, chat_id: int) -> bool:
    return bool(db.execute("SELECT 1 FROM blocked_chats WHERE chat_id=?", [chat_id]).fetchone())


# -- demo seeding ------------------------------------------------------------------------------------
def count_members(db) -> int:
    return db.execute("SELECT count(*) FROM members").fetchone()[0]


def member_exists(db, name: str, village: str) -> bool:
    return bool(
        db.execute("SELECT 1 FROM members WHERE name=? AND village=?", [name, village]).fetchone()
    )


def village_coordinator_of(db, household_id: int) -> int | None:
    row = db.execute(
        "SELECT m.id FROM members m JOIN households h ON h.village = m.village "
        "WHERE h.id=? AND m.role='village_coordinator' ORDER BY m.id LIMIT 1",
        [household_id],
    ).fetchone()
    return row[0] if row else None


def set_problem_fields(db, problem_id: int, **fields: Any) -> None:
    """Write fields without a version check: only for seeding history (the demo)."""
    sets = ", ".join(f"{k}=?" for k in fields)
    db.execute(f"UPDATE problems SET {sets} WHERE id=?", [*fields.values(), problem_id])
