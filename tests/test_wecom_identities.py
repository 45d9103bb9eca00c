"""Channel identities (issue #11): today's Telegram bindings move into `identities`, invites bind
whichever channel redeems them, one member may use Telegram and WeCom against one ledger."""

from __future__ import annotations

import sqlite3

import pytest
from ledger_support import make_village

from bot.ledger import identities
from bot.ledger import members as members_db
from bot.ledger.db import connect
from bot.ledger.identities import ChannelIdentity
from bot.ledger.schema import MIGRATIONS
from bot.services.ledger_types import Conflict

WECOM_LIU = ChannelIdentity("wecom", "LiuDangYuan")


def test_wecom_migration_moves_telegram_bindings_blocked_chats_and_deliveries(tmp_path):
    path = tmp_path / "ledger.db"
    old = sqlite3.connect(path, isolation_level=None)  # a ledger as it was before m003
    old.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, statements in MIGRATIONS:
        if name == "m003_channel_identities":
            break
        for statement in statements:
            old.execute(statement)
        old.execute("INSERT INTO _migrations VALUES (?, '2026-11-01')", [name])
    old.execute(
        "INSERT INTO members(name, role, village, telegram_id, created_at) "
        "VALUES ('孙书记', 'village_coordinator', '东村', 22, '2026-10-01T00:00:00+00:00')"
    )
    old.execute("INSERT INTO blocked_chats VALUES (5, '2026-10-02')")
    old.execute("INSERT INTO deliveries VALUES ('weekly_digest', '2026-W44', 22, '2026-11-02')")
    old.close()

    db = connect(path)
    assert [(1, "telegram", "22", "2026-10-01T00:00:00+00:00")] == db.execute(
        "SELECT member_id, channel, external_id, bound_at FROM identities"
    ).fetchall()
    assert [(None,)] == db.execute("SELECT telegram_id FROM members").fetchall()  # one truth
    assert 22 == members_db.member_by_telegram(db, 22).telegram_id
    assert identities.is_blocked(db, "telegram", "5")
    assert identities.delivered(db, "weekly_digest", "2026-W44", "telegram", "22")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not {"blocked_chats", "deliveries"} & tables


def test_wecom_and_telegram_bind_one_member_by_invites_naming_them(tmp_path):
    v = make_village(tmp_path)
    ledger = v.ledger
    first = ledger.create_invite(v.village_admin, "volunteer", grid="一组", name="刘党员")
    assert v.volunteer.id == ledger.redeem_invite(first, 11, "Tg名").id  # Telegram
    second = ledger.create_invite(v.village_admin, "volunteer", grid="一组", name="刘党员")
    on_wecom = ledger.redeem_invite(second, WECOM_LIU, "LiuDangYuan")
    assert v.volunteer.id == on_wecom.id  # the same roster member, not a new one
    assert on_wecom == ledger.redeem_invite(second, WECOM_LIU, "LiuDangYuan")  # redelivered
    assert [ChannelIdentity("telegram", "11"), WECOM_LIU] == identities.of_member(
        ledger.db, v.volunteer.id
    )
    assert ledger.member_by_identity(WECOM_LIU) == ledger.member_by_telegram(11)
    # a WeCom account already bound cannot take another invite
    third = ledger.create_invite(v.village_admin, "volunteer", grid="一组", name="陈党员")
    with pytest.raises(Conflict):
        ledger.redeem_invite(third, WECOM_LIU, "LiuDangYuan")
    bindings = ledger.db.execute(
        "SELECT after FROM audit WHERE entity='identity' AND action='bind' ORDER BY id"
    ).fetchall()
    assert 2 == len(bindings) and "wecom" in bindings[1][0]


def test_wecom_address_belongs_to_one_member_and_a_member_has_one_address_per_channel(tmp_path):
    v = make_village(tmp_path)
    db = v.ledger.db
    identities.bind(db, v.volunteer.id, "wecom", "liu")
    with pytest.raises(sqlite3.IntegrityError):
        identities.bind(db, v.other_volunteer.id, "wecom", "liu")
    with pytest.raises(sqlite3.IntegrityError):
        identities.bind(db, v.volunteer.id, "wecom", "liu2")
    identities.bind(db, v.other_volunteer.id, "telegram", "liu")  # ids are per channel
    assert v.volunteer.id == identities.member_id_of(db, "wecom", "liu")
    assert v.other_volunteer.id == identities.member_id_of(db, "telegram", "liu")
