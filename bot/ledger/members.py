"""Members (the roster of people who use the bot) and the invite codes that bind them."""

from __future__ import annotations

from bot.ledger.db import now_utc
from bot.ledger.records import Member
from bot.ledger.rows import all_rows, marks, one


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


def insert_member(
    db,
    name: str,
    role: str,
    village: str = "",
    grid: str = "",
    phone: str = "",
    telegram_id: int | None = None,
    at: str | None = None,
) -> int:
    return db.execute(
        "INSERT INTO members(name, role, village, grid, phone, telegram_id, created_at) "
        "VALUES (?,?,?,?,?,?,?)",
        [name, role, village, grid, phone, telegram_id, at or now_utc()],
    ).lastrowid


def member(db, member_id: int) -> Member | None:
    row = one(db, "SELECT * FROM members WHERE id=?", [member_id])
    return _member(row) if row else None


def member_by_telegram(db, telegram_id: int) -> Member | None:
    row = one(db, "SELECT * FROM members WHERE telegram_id=? AND active=1", [telegram_id])
    return _member(row) if row else None


def members_named(db, name: str) -> list[Member]:
    return [
        _member(r) for r in all_rows(db, "SELECT * FROM members WHERE name=? AND active=1", [name])
    ]


def members_with_role(db, roles: tuple[str, ...], village: str | None = None) -> list[Member]:
    where, params = ("AND village=?", [village]) if village else ("", [])
    rows = all_rows(
        db,
        f"SELECT * FROM members WHERE active=1 AND role IN ({marks(roles)}) {where} ORDER BY id",
        [*roles, *params],
    )
    return [_member(r) for r in rows]


def bind_telegram(db, member_id: int, telegram_id: int) -> None:
    db.execute("UPDATE members SET telegram_id=? WHERE id=?", [telegram_id, member_id])


def count_members(db) -> int:
    return db.execute("SELECT count(*) FROM members").fetchone()[0]


def village_coordinator_of(db, household_id: int) -> int | None:
    row = db.execute(
        "SELECT m.id FROM members m JOIN households h ON h.village = m.village "
        "WHERE h.id=? AND m.role='village_coordinator' ORDER BY m.id LIMIT 1",
        [household_id],
    ).fetchone()
    return row[0] if row else None


# -- invites ------------------------------------------------------------------------------------
def insert_invite(
    db, code: str, role: str, village: str, grid: str, name: str, created_by: int
) -> None:
    db.execute(
        "INSERT INTO invites(code, role, village, grid, name, created_by, created_at) "
        "VALUES (?,?,?,?,?,?,?)",
        [code, role, village, grid, name, created_by, now_utc()],
    )


def invite(db, code: str) -> dict | None:
    return one(db, "SELECT * FROM invites WHERE code=?", [code])


def use_invite(db, code: str, member_id: int) -> None:
    db.execute("UPDATE invites SET used_by=?, used_at=? WHERE code=?", [member_id, now_utc(), code])
