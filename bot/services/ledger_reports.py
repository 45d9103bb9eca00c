"""What coordinators read: households still due a visit, the weekly digest, the Excel export,
and the online backup."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

from bot.ledger import audit as audit_db
from bot.ledger import households as households_db
from bot.ledger import visits as visits_db
from bot.ledger.db import connect, transaction
from bot.services.ledger_base import LedgerBase
from bot.services.ledger_types import Household, Member, NotAllowed


class ReportOps(LedgerBase):
    def due_households(
        self, member: Member, today: date | None = None
    ) -> list[tuple[Household, str]]:
        """Special-group households not yet visited in their period (computed, not stored):
        a tag due every N months needs a visit since the start of the N-month window."""
        today = today or self.today()
        rhythm = self.settings.ledger.special_tags
        households = [
            h
            for h in households_db.visible_households(self.db, member)
            if any(t in rhythm for t in h.tags)
        ]
        last = visits_db.last_visits(self.db, [h.id for h in households])
        due = []
        for h in households:
            months = min(rhythm[t] for t in h.tags if t in rhythm)
            start_month = (today.year * 12 + today.month - 1) - (months - 1)
            window_start = datetime(start_month // 12, start_month % 12 + 1, 1, tzinfo=self.tz)
            seen = last.get(h.id)
            if not seen or self.local(seen) < window_start:
                due.append((h, seen or ""))
        return due

    def digest(self, week: str | None = None, village: str | None = None):
        from bot.services.digest import build_digest

        return build_digest(
            self.db, week, village, self.tz, list(self.settings.ledger.special_tags), self.today()
        )

    def export(
        self,
        path,
        viewer: Member | None = None,
        village: str | None = None,
        week: str | None = None,
    ) -> dict[str, int]:
        """Export for a viewer's scope (a village coordinator: their village); phones shown only
        to the roles in [ledger] phone_visible_roles. No viewer: the whole ledger, masked.

        Reads through its own connection: the bot runs an export in a worker thread while the
        event loop keeps writing through the shared one."""
        from bot.services.digest import build_digest
        from bot.services.export import export_workbook

        if viewer is not None and viewer.role == "village_coordinator":
            village = viewer.village
        elif viewer is not None and viewer.role not in ("township_coordinator", "admin"):
            raise NotAllowed("只有村级、乡镇管理员可以导出台账。")
        show_phones = viewer is not None and viewer.role in self.settings.ledger.phone_visible_roles
        db = connect(self.settings.ledger_path, check=False)  # checked when the service opened
        try:
            tags = list(self.settings.ledger.special_tags)
            digest = build_digest(db, week, village, self.tz, tags, self.today())
            written = export_workbook(db, path, digest, self.tz, show_phones, village)
            if show_phones:
                # full phone numbers left the system: record who took them, where, for which area
                with transaction(db):
                    audit_db.audit(
                        db,
                        viewer.id,
                        "export",
                        0,
                        "export_with_phones",
                        None,
                        {"file": str(path), "village": village or "全乡镇", "rows": written},
                        at=self.now_iso(),
                    )
            return written
        finally:
            db.conn.close()

    def backup(self, target: Path) -> None:
        """A consistent copy while the bot keeps writing: SQLite's online backup API."""
        target.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(target)
        with dest:
            self.db.conn.backup(dest)
        dest.close()
