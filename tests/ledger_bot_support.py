"""A demo village behind the real Dispatcher, with chat ids bound to its members, and a clock
the test can move (the service stores every time from it)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot_support import Harness
from ledger_support import make_village

from bot.ledger import members as members_db
from bot.services.ledger_service import LedgerService

VOLUNTEER, ADMIN, TOWNSHIP, GRID, OTHER_VOLUNTEER, STRANGER = 11, 22, 33, 44, 55, 99
TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self, at: datetime | None = None):
        self.at = at

    def __call__(self) -> datetime:
        return self.at or datetime.now(TZ)


def village_bot(tmp_path, answerer=None, clock: Clock | None = None) -> Harness:
    v = make_village(tmp_path)
    ledger = LedgerService(v.ledger.db, v.ledger.settings, clock)
    v.ledger = ledger
    for member, chat in (
        (v.volunteer, VOLUNTEER),
        (v.village_admin, ADMIN),
        (v.township, TOWNSHIP),
        (v.grid_leader, GRID),
        (v.other_volunteer, OTHER_VOLUNTEER),
    ):
        members_db.bind_telegram(ledger.db, member.id, chat)
    harness = Harness(ledger.settings, answerer, ledger)
    harness.v = v
    return harness


def counts(h) -> tuple[int, int, int]:
    return h.v.ledger.db.execute(
        "SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM problems), "
        "(SELECT count(*) FROM problem_events)"
    ).fetchone()


def buttons(markup) -> dict[str, str]:
    """Button text → callback data of the last keyboard."""
    return {b.text: b.callback_data for row in markup.inline_keyboard for b in row}


def status(h, problem_id: int) -> str:
    return h.v.ledger.db.execute("SELECT status FROM problems WHERE id=?", [problem_id]).fetchone()[
        0
    ]
