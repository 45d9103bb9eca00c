"""Scheduled work (APScheduler, Asia/Shanghai): the weekly digest to coordinators, monthly
reminders of special-group households still due, daily overdue reminders.

Each run is recorded per period (ISO week, month, day) and each delivery per chat, so a restart
never sends a digest twice, and a run that was missed while the bot was down runs once at start.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot
from aiogram.types import BufferedInputFile
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings
from bot.ledger import jobs as jobs_db
from bot.ledger import members as members_db
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import COORDINATORS
from bot.telegram_send import deliver

log = logging.getLogger(__name__)


async def weekly_digest(bot: Bot, ledger: LedgerService) -> int:
    from bot.services.chart import digest_png
    from bot.services.digest import digest_text

    period = ledger.digest().this_week.week  # the last complete week
    if jobs_db.run_finished(ledger.db, "weekly_digest", period):
        return 0
    jobs_db.record_run(ledger.db, "weekly_digest", period, finished=False)
    sent = 0
    for member in members_db.members_with_role(ledger.db, COORDINATORS):
        if not member.telegram_id or jobs_db.delivered(
            ledger.db, "weekly_digest", period, member.telegram_id
        ):
            continue
        village = member.village if member.role == "village_coordinator" else None
        d = ledger.digest(period, village)
        png = digest_png(d)

        async def send(chat=member.telegram_id, text=digest_text(d, ledger.tz), png=png):
            await bot.send_message(chat, text, parse_mode=None)
            await bot.send_photo(chat, BufferedInputFile(png, "digest.png"))

        if await deliver(ledger.db, member.telegram_id, send):
            jobs_db.record_delivery(ledger.db, "weekly_digest", period, member.telegram_id)
            sent += 1
    jobs_db.record_run(ledger.db, "weekly_digest", period, finished=True, sent=sent)
    return sent


async def _remind(
    bot: Bot, ledger: LedgerService, job: str, period: str, recipients, message_for
) -> int:
    """Send each recipient their text (None: nothing to say) once per period, then record the run."""
    if jobs_db.run_finished(ledger.db, job, period):
        return 0
    sent = 0
    for member in recipients:
        if not member.telegram_id or jobs_db.delivered(ledger.db, job, period, member.telegram_id):
            continue
        text = message_for(member)
        if text is None:
            continue
        send = lambda c=member.telegram_id, t=text: bot.send_message(c, t, parse_mode=None)  # noqa: E731
        if await deliver(ledger.db, member.telegram_id, send):
            jobs_db.record_delivery(ledger.db, job, period, member.telegram_id)
            sent += 1
    jobs_db.record_run(ledger.db, job, period, finished=True, sent=sent)
    return sent


async def monthly_reminders(bot: Bot, ledger: LedgerService) -> int:
    def message_for(member):
        due = ledger.due_households(member)
        if not due:
            return None
        names = "、".join(h.label for h, _ in due[:20])
        return f"本月还有 {len(due)} 户重点户没走访：{names}。发 /走访 记录。"

    volunteers = members_db.members_with_role(ledger.db, ("volunteer",))
    return await _remind(
        bot, ledger, "monthly_reminder", ledger.today().strftime("%Y-%m"), volunteers, message_for
    )


LEVEL_OF_ROLE = {
    "volunteer": "volunteer",
    "village_coordinator": "village",
    "township_coordinator": "township",
}


async def overdue_reminders(bot: Bot, ledger: LedgerService) -> int:
    """Each open overdue item goes to whoever must act at its level."""

    def message_for(member):
        items = [p for p in ledger.overdue(member) if p.level == LEVEL_OF_ROLE[member.role]]
        if not items:
            return None
        lines = [f"有 {len(items)} 个问题已超期："] + [
            f"#{p.id} {p.description[:30]}" for p in items[:15]
        ]
        return "\n".join(lines)

    recipients = members_db.members_with_role(ledger.db, tuple(LEVEL_OF_ROLE))
    return await _remind(
        bot, ledger, "overdue", ledger.today().isoformat(), recipients, message_for
    )


def start_scheduler(settings: Settings, bot: Bot, ledger: LedgerService) -> AsyncIOScheduler:
    tz = settings.schedule.timezone
    scheduler = AsyncIOScheduler(timezone=tz)
    jobs = (
        (weekly_digest, settings.schedule.weekly_digest_cron),
        (monthly_reminders, settings.schedule.monthly_reminder_cron),
        (overdue_reminders, settings.schedule.overdue_reminder_cron),
    )
    for job, cron in jobs:
        scheduler.add_job(
            job,
            CronTrigger.from_crontab(cron, timezone=tz),
            args=[bot, ledger],
            id=job.__name__,
            misfire_grace_time=int(timedelta(hours=6).total_seconds()),
        )
    # a digest missed while the bot was down goes out once now; the run record stops repeats
    scheduler.add_job(weekly_digest, args=[bot, ledger], id="catch_up_digest")
    scheduler.start()
    return scheduler
