"""Members (the roster of people who use the bot) and the invite codes that bind them."""

from __future__ import annotations

from bot.ledger import identities
from bot.ledger.db import now_utc
from bot.ledger.records import Member
from bot.ledger.rows import all_rows, marks, one

# A member with their Telegram id, which lives in `identities` (migration m003); the WeCom
# and other ids are read there directly.
_SELECT = (
    "SELECT m.id, m.name, m.role, m.village, m.grid, m.phone, "
    "(SELECT CAST(i.external_id AS INTEGER) FROM identities i "
    "WHERE i.member_id = m.id AND i.channel = 'telegram') AS telegram_id FROM members m"
)


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
    member_id = db.execute(
        "INSERT INTO members(name, role, village, grid, phone, created_at) VALUES (?,?,?,?,?,?)",
        [name, role, village, grid, phone, at or now_utc()],
    ).lastrowid
    if telegram_id is not None:
        identities.bind(db, member_id, "telegram", str(telegram_id))
    return member_id


def member(db, member_id: int) -> Member | None:
    row = one(db, f"{_SELECT} WHERE m.id=?", [member_id])
    return _member(row) if row else None


def member_by_telegram(db, telegram_id: int) -> Member | None:
    return member_by_identity(db, "telegram", str(telegram_id))


def member_by_identity(db, channel: str, external_id: str) -> Member | None:
    """The active member bound to this address on this channel."""
    member_id = identities.member_id_of(db, channel, external_id)
    return member(db, member_id) if member_id is not None else None


def members_named(db, name: str) -> list[Member]:
    return [_member(r) for r in all_rows(db, f"{_SELECT} WHERE m.name=? AND m.active=1", [name])]


def members_with_role(db, roles: tuple[str, ...], village: str | None = None) -> list[Member]:
    where, params = ("AND m.village=?", [village]) if village else ("", [])
    rows = all_rows(
        db,
        f"{_SELECT} WHERE m.active=1 AND m.role IN ({marks(roles)}) {where} ORDER BY m.id",
        [*roles, *params],
    )
    return [_member(r) for r in rows]


def bind_telegram(db, member_id: int, telegram_id: int) -> None:
    identities.bind(db, member_id, "telegram", str(telegram_id))


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
