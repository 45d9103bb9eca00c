"""The last safety net: an exception no handler caught is logged with its traceback, and the
person who sent the update still gets an answer (texts.ERROR) instead of silence."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.types import ErrorEvent

from bot import texts
from bot.ledger.db import LedgerUnavailable

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent, bot: Bot) -> bool:
    update = event.update
    log.exception("update %s failed", update.update_id, exc_info=event.exception)
    damaged = isinstance(event.exception, LedgerUnavailable)
    text = texts.LEDGER_UNAVAILABLE if damaged else texts.ERROR
    try:
        if update.callback_query is not None:
            await bot.answer_callback_query(update.callback_query.id, text, show_alert=True)
        elif update.message is not None:
            await bot.send_message(update.message.chat.id, text, parse_mode=None)
    except Exception:  # the error reply itself failed (network): the log above is what remains
        log.exception("could not tell the sender of update %s", update.update_id)
    return True


def register(dp: Router) -> None:
    """On the Dispatcher itself: errors of every feature router propagate up to it."""
    dp.errors.register(on_error)
