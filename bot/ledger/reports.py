"""Read-only queries for the weekly digest and the Excel export. The lifecycle vocabulary
(which statuses are open, which actions count as what) comes in as parameters from the
lifecycle table in `bot/services/lifecycle.py`, so the SQL never spells a state of its own."""

from __future__ import annotations

from bot.ledger.rows import all_rows, marks, village_clause


def digest_counts(
    db,
    start: str,
    end: str,
    village: str | None,
    final_statuses: tuple[str, ...],
    counted_actions: dict[str, str],
    top_level: str,
) -> dict:
    """The weekly figures for visits and problems between two UTC instants [start, end).

    final_statuses: statuses nothing moves on from (销号); counted_actions: key of the result →
    lifecycle action whose events in the week are counted (distinct problems); top_level: the
    level a problem reaches when it leaves the village."""
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
    for key, action in counted_actions.items():
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
        f"AND (p.resolved_at = '' OR p.resolved_at >= ?) AND p.status NOT IN ({marks(final_statuses)}) "
        f"AND p.deadline < ? AND {where}",
        (end, end, *final_statuses, end),
    )
    resolved = db.execute(
        f"SELECT count(*), sum(p.resolved_at <= p.deadline), sum(p.level != ?) FROM problems p "
        f"JOIN households h ON h.id=p.household_id WHERE p.resolved_at >= ? AND p.resolved_at < ? "
        f"AND {where}",
        [top_level, start, end, *params],
    ).fetchone()
    counts["resolved_in_week"] = resolved[0]
    counts["resolved_on_time"] = resolved[1] or 0
    counts["resolved_in_village"] = resolved[2] or 0
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
        found.update(
            r[0]
            for r in db.execute(
                f"SELECT DISTINCT household_id FROM visits WHERE superseded_by IS NULL AND visited_at >= ? "
                f"AND visited_at < ? AND household_id IN ({marks(chunk)})",
                [start, end, *chunk],
            ).fetchall()
        )
    return found


def oldest_overdue(
    db, end: str, village: str | None, open_statuses: tuple[str, ...], limit: int = 5
) -> list[dict]:
    where, params = village_clause(village)
    return all_rows(
        db,
        f"SELECT p.id, p.description, p.deadline, p.level, h.village, h.head_name FROM problems p "
        f"JOIN households h ON h.id=p.household_id WHERE p.status IN ({marks(open_statuses)}) "
        f"AND p.deadline < ? AND {where} ORDER BY p.deadline LIMIT ?",
        [*open_statuses, end, *params, limit],
    )


def export_rows(db, village: str | None) -> dict[str, list[dict]]:
    where, params = village_clause(village)
    return {
        "visits": all_rows(
            db,
            f"SELECT v.id, v.visited_at, h.village, h.grid, h.head_name, h.house_number, "
            f"m.name AS member, v.method, v.situation, v.requests, v.policies, v.location, "
            f"v.supersedes FROM visits v JOIN households h ON h.id=v.household_id JOIN members m "
            f"ON m.id=v.member_id WHERE v.superseded_by IS NULL AND {where} ORDER BY v.visited_at",
            params,
        ),
        "problems": all_rows(
            db,
            f"SELECT p.id, p.opened_at, h.village, h.head_name, m.name AS reporter, p.category, "
            f"p.description, p.level, p.status, p.deadline, p.result, p.satisfaction, p.resolved_at, "
            f"p.closed_at FROM problems p JOIN households h ON h.id=p.household_id JOIN members m "
            f"ON m.id=p.reporter_id WHERE {where} ORDER BY p.opened_at",
            params,
        ),
        "households": all_rows(
            db,
            f"SELECT h.id, h.village, h.grid, h.head_name, h.house_number, h.size, h.phone, "
            f"h.tags, m.name AS volunteer FROM households h LEFT JOIN members m "
            f"ON m.id=h.volunteer_id WHERE {where} ORDER BY h.village, h.grid, h.id",
            params,
        ),
    }
