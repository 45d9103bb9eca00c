"""Scheduled work (APScheduler, Asia/Shanghai): the weekly digest to coordinators, monthly
reminders of special-group households still due, daily overdue reminders.

Each goes to every address the member has on a channel that is running (Telegram, WeCom or both),
through that channel's notifier (bot/channels/notifier.py). Each run is recorded per period (ISO
week, month, day) and each delivery per address, so a restart never sends a digest twice, and a
run that was missed while the bot was down runs once at start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.channels import TELEGRAM
from bot.channels.notifier import Notifier, deliver
from bot.config import Settings
from bot.ledger import identities
from bot.ledger import jobs as jobs_db
from bot.ledger import members as members_db
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import COORDINATORS

log = logging.getLogger(__name__)


def as_notifiers(target) -> dict[str, Notifier]:
    """Channel → notifier. An aiogram Bot alone stands for Telegram only (how callers and tests
    written before WeCom pass it)."""
    if isinstance(target, Mapping):
        return dict(target)
    from bot.channels.telegram.notifier import TelegramNotifier

    return {TELEGRAM: TelegramNotifier(target)}


def _addresses(ledger: LedgerService, notifiers, member, job: str, period: str):
    """The member's addresses on running channels that this run has not reached yet."""
    return [
        a
        for a in identities.of_member(ledger.db, member.id)
        if a.channel in notifiers
        and not identities.delivered(ledger.db, job, period, a.channel, a.external_id)
    ]


async def weekly_digest(notifiers, ledger: LedgerService) -> int:
    """The last complete week's digest, text and chart, to each coordinator for their scope;
    returns how many addresses it reached."""
    from bot.services.chart import digest_png
    from bot.services.digest import digest_text

    notifiers = as_notifiers(notifiers)
    job, period = "weekly_digest", ledger.digest().this_week.week  # the last complete week
    if jobs_db.run_finished(ledger.db, job, period):
        return 0
    jobs_db.record_run(ledger.db, job, period, finished=False)
    sent = 0
    for member in members_db.members_with_role(ledger.db, COORDINATORS):
        addresses = _addresses(ledger, notifiers, member, job, period)
        if not addresses:
            continue
        village = member.village if member.role == "village_coordinator" else None
        d = ledger.digest(period, village)
        text, png = digest_text(d, ledger.tz), digest_png(d)
        for address in addresses:
            notifier, to = notifiers[address.channel], address.external_id
            # text and chart retried apart: a chart that fails does not send the text twice
            if await deliver(
                ledger.db, address.channel, to, partial(notifier.send_text, to, text)
            ) and await deliver(
                ledger.db,
                address.channel,
                to,
                partial(notifier.send_picture, to, png, "digest.png"),
            ):
                identities.record_delivery(ledger.db, job, period, address.channel, to)
                sent += 1
    jobs_db.record_run(ledger.db, job, period, finished=True, sent=sent)
    return sent


async def _remind(
    notifiers, ledger: LedgerService, job: str, period: str, recipients, message_for
) -> int:
    """Send each recipient their text (None: nothing to say) once per period, then record the run."""
    notifiers = as_notifiers(notifiers)
    if jobs_db.run_finished(ledger.db, job, period):
        return 0
    sent = 0
    for member in recipients:
        addresses = _addresses(ledger, notifiers, member, job, period)
        if not addresses:
            continue
        text = message_for(member)
        if text is None:
            continue
        for address in addresses:
            notifier, to = notifiers[address.channel], address.external_id
            if await deliver(ledger.db, address.channel, to, partial(notifier.send_text, to, text)):
                identities.record_delivery(ledger.db, job, period, address.channel, to)
                sent += 1
    jobs_db.record_run(ledger.db, job, period, finished=True, sent=sent)
    return sent


async def monthly_reminders(notifiers, ledger: LedgerService) -> int:
    def message_for(member):
        due = ledger.due_households(member)
        if not due:
            return None
        names = "、".join(h.label for h, _ in due[:20])
        return f"本月还有 {len(due)} 户重点户没走访：{names}。发 /走访 记录。"

    volunteers = members_db.members_with_role(ledger.db, ("volunteer",))
    return await _remind(
        notifiers,
        ledger,
        "monthly_reminder",
        ledger.today().strftime("%Y-%m"),
        volunteers,
        message_for,
    )


LEVEL_OF_ROLE = {
    "volunteer": "volunteer",
    "village_coordinator": "village",
    "township_coordinator": "township",
}


async def overdue_reminders(notifiers, ledger: LedgerService) -> int:
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
        notifiers, ledger, "overdue", ledger.today().isoformat(), recipients, message_for
    )


def start_scheduler(settings: Settings, notifiers, ledger: LedgerService) -> AsyncIOScheduler:
    """Cron jobs for the digest and the reminders, over every running channel's notifier."""
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
            args=[notifiers, ledger],
            id=job.__name__,
            misfire_grace_time=int(timedelta(hours=6).total_seconds()),
        )
    # a digest missed while the bot was down goes out once now; the run record stops repeats
    scheduler.add_job(weekly_digest, args=[notifiers, ledger], id="catch_up_digest")
    scheduler.start()
    return scheduler
