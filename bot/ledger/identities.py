"""Channel identities: who a member is on each messenger (Telegram user id, WeCom userid), which
addresses blocked us, and which scheduled messages reached which address.

One member may be bound on several channels, at most once per channel; one address belongs to
at most one member (both UNIQUE in the schema, migration m003_channel_identities). External ids
are stored as text whatever the channel (a Telegram id is digits, a WeCom userid is letters).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ledger.db import now_utc


@dataclass(frozen=True)
class ChannelIdentity:
    """Where a message came from, or where one should go: a channel and its own id for a person."""

    channel: str
    external_id: str


def member_id_of(db, channel: str, external_id: str) -> int | None:
    """The active member bound to this address, if any."""
    row = db.execute(
        "SELECT i.member_id FROM identities i JOIN members m ON m.id = i.member_id "
        "WHERE i.channel=? AND i.external_id=? AND m.active=1",
        [channel, str(external_id)],
    ).fetchone()
    return row[0] if row else None


def of_member(db, member_id: int) -> list[ChannelIdentity]:
    """Every address of a member, Telegram first (the order channels were added in)."""
    rows = db.execute(
        "SELECT channel, external_id FROM identities WHERE member_id=? "
        "ORDER BY channel != 'telegram', channel",
        [member_id],
    ).fetchall()
    return [ChannelIdentity(channel, external_id) for channel, external_id in rows]


def external_id(db, member_id: int, channel: str) -> str | None:
    row = db.execute(
        "SELECT external_id FROM identities WHERE member_id=? AND channel=?", [member_id, channel]
    ).fetchone()
    return row[0] if row else None


def bind(db, member_id: int, channel: str, external_id: str) -> None:
    """Bind an address to a member. The caller holds a transaction and has checked that neither
    the address nor the member's slot on this channel is taken (the UNIQUE constraints would
    refuse it anyway)."""
    db.execute(
        "INSERT INTO identities(member_id, channel, external_id, bound_at) VALUES (?,?,?,?)",
        [member_id, channel, str(external_id), now_utc()],
    )


# -- addresses that blocked us ------------------------------------------------------------------
def block(db, channel: str, external_id: str) -> None:
    db.execute(
        "INSERT OR IGNORE INTO blocked_recipients(channel, external_id, at) VALUES (?,?,?)",
        [channel, str(external_id), now_utc()],
    )


def is_blocked(db, channel: str, external_id: str) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM blocked_recipients WHERE channel=? AND external_id=?",
            [channel, str(external_id)],
        ).fetchone()
    )


# -- scheduled deliveries, once per job, period and address ---------------------------------------
def delivered(db, job: str, period: str, channel: str, external_id: str) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM channel_deliveries WHERE job=? AND period=? AND channel=? "
            "AND external_id=?",
            [job, period, channel, str(external_id)],
        ).fetchone()
    )


def record_delivery(db, job: str, period: str, channel: str, external_id: str) -> None:
    db.execute(
        "INSERT OR IGNORE INTO channel_deliveries(job, period, channel, external_id, at) "
        "VALUES (?,?,?,?,?)",
        [job, period, channel, str(external_id), now_utc()],
    )
