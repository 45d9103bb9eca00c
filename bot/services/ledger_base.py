"""What every part of the ledger service shares: the database, the settings, and the clock.

The clock is injectable so that the demo (and tests) can drive the real service at past
moments; every time the service stores comes from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings

UTC = ZoneInfo("UTC")
MAX_TEXT = 2000  # characters kept of one free-text field
MAX_ID = 2**63 - 1  # SQLite's integer range: a larger number cannot name any row


class LedgerBase:
    def __init__(self, db, settings: Settings, clock: Callable[[], datetime] | None = None):
        self.db = db
        self.settings = settings
        self.tz = ZoneInfo(settings.schedule.timezone)
        self.clock = clock or (lambda: datetime.now(self.tz))

    def now(self) -> datetime:
        """Now in the ledger's timezone (Asia/Shanghai unless configured)."""
        return self.clock().astimezone(self.tz)

    def now_iso(self) -> str:
        """Now as the aware UTC ISO string storage keeps."""
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def today(self) -> date:
        return self.now().date()

    def local(self, iso_utc: str) -> datetime:
        return datetime.fromisoformat(iso_utc).astimezone(self.tz)

    @staticmethod
    def row_id(value: int, not_found: Exception) -> int:
        """An id from outside (another channel, a script): SQLite raises OverflowError on one
        beyond its range, so such a number is simply not found."""
        if not isinstance(value, int) or not 0 < value <= MAX_ID:
            raise not_found
        return value

    def deadline(self, level: str, start: datetime | None = None) -> str:
        days = getattr(self.settings.ledger, f"deadline_days_{level}")
        start = start or self.now()
        return (start + timedelta(days=days)).astimezone(UTC).isoformat(timespec="seconds")
