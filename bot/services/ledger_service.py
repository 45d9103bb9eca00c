"""The ledger facade the bot, the console and the CLI hold. Each aggregate keeps its own module;
this class only puts them together over one database, one settings object and one clock.

    ledger = LedgerService.open(settings)            # ledger_base: db, settings, clock
    ledger.add_member / create_invite / redeem_invite      → ledger_members.py
    ledger.add_household / visible_households / find_household → ledger_households.py
    ledger.log_visit_text / log_visit / correct_visit / attach_to_last_visit → ledger_visits.py
    ledger.open_problem / solve_on_spot / escalate / resolve / follow_up / close / move,
        next_actions / next_moves / my_problems / overdue  → ledger_problems.py
        (the moves themselves are rows of the table in lifecycle.py)
    ledger.due_households / digest / export / backup  → ledger_reports.py
Errors are LedgerError subclasses whose message is one Chinese sentence for the user.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.config import Settings
from bot.ledger.db import connect
from bot.services.ledger_members import MemberOps
from bot.services.ledger_problems import ACTION_NAMES
from bot.services.ledger_reports import ReportOps
from bot.services.ledger_visits import VisitOps

__all__ = ["ACTION_NAMES", "LedgerService"]


class LedgerService(MemberOps, VisitOps, ReportOps):
    @classmethod
    def open(cls, settings: Settings, clock: Callable[[], datetime] | None = None) -> LedgerService:
        return cls(connect(settings.ledger_path), settings, clock)

    def close_db(self) -> None:
        self.db.conn.close()
