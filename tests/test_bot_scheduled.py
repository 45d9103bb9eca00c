"""Scheduled work and delivery: no digest twice, missed runs once, 429/network/blocked handling,
and the guided form's state surviving a restart."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import SendMessage, SendPhoto
from bot_support import RecordingSession
from ledger_support import make_village

from bot.fsm_storage import SQLiteStorage
from bot.ledger import jobs as jobs_db
from bot.ledger import members as members_db
from bot.scheduler import monthly_reminders, overdue_reminders, weekly_digest
from bot.telegram_send import deliver


def _village_with_telegram(tmp_path):
    v = make_village(tmp_path)
    members_db.bind_telegram(v.ledger.db, v.village_admin.id, 22)
    members_db.bind_telegram(v.ledger.db, v.township.id, 33)
    members_db.bind_telegram(v.ledger.db, v.volunteer.id, 11)
    return v


async def test_weekly_digest_goes_once_per_week_even_after_a_restart(tmp_path):
    v = _village_with_telegram(tmp_path)
    session = RecordingSession()
    bot = Bot("1:T", session=session)
    assert 2 == await weekly_digest(bot, v.ledger)  # village and township coordinators
    sent = [c for c in session.calls if isinstance(c, (SendMessage, SendPhoto))]
    assert {22, 33} == {c.chat_id for c in sent} and 4 == len(sent)
    assert 0 == await weekly_digest(bot, v.ledger)  # a restart runs the catch-up again: nothing new
    assert 4 == len([c for c in session.calls if isinstance(c, (SendMessage, SendPhoto))])


async def test_reminders_reach_the_level_responsible(tmp_path):
    v = _village_with_telegram(tmp_path)
    session = RecordingSession()
    bot = Bot("1:T", session=session)
    assert 1 == await monthly_reminders(bot, v.ledger)  # 张三 and 李四 are due
    assert "张三" in session.calls[-1].text
    p = v.ledger.open_problem(v.volunteer, v.zhang.id, "漏雨", "k1")
    v.ledger.db.execute(
        "UPDATE problems SET deadline='2000-01-01T00:00:00+00:00' WHERE id=?", [p.id]
    )
    assert 1 == await overdue_reminders(bot, v.ledger)
    assert 11 == session.calls[-1].chat_id and "#1" in session.calls[-1].text
    assert 0 == await overdue_reminders(bot, v.ledger)


async def test_deliver_waits_on_429_retries_network_errors_and_skips_blocked_chats(tmp_path):
    v = make_village(tmp_path)
    slept, attempts = [], []

    async def sleep(seconds):
        slept.append(seconds)

    def flaky(errors):
        async def send():
            attempts.append(1)
            if errors:
                raise errors.pop(0)

        return send

    method = SendMessage(chat_id=1, text="x")
    errors = [TelegramRetryAfter(method, "too many", 7), TelegramNetworkError(method, "down")]
    assert await deliver(v.ledger.db, 1, flaky(errors), sleep=sleep)
    assert [7, 1.0] == slept and 3 == len(attempts)

    assert not await deliver(
        v.ledger.db, 2, flaky([TelegramForbiddenError(method, "blocked")]), sleep=sleep
    )
    assert jobs_db.is_blocked(v.ledger.db, 2)
    attempts.clear()
    assert not await deliver(v.ledger.db, 2, flaky([]), sleep=sleep)
    assert [] == attempts  # a blocked chat is not tried again


async def test_form_state_survives_a_restart(tmp_path):
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    storage = SQLiteStorage(tmp_path / "fsm.db")
    await storage.set_state(key, "VisitForm:situation")
    await storage.set_data(key, {"household_id": 3, "household": "东村张三家"})
    await storage.close()
    reopened = SQLiteStorage(tmp_path / "fsm.db")
    assert "VisitForm:situation" == await reopened.get_state(key)
    assert {"household_id": 3, "household": "东村张三家"} == await reopened.get_data(key)
