"""Sending to a chat that may be slow, rate-limited or gone: 429 waits `retry_after`, network
errors retry with backoff, a chat that blocked the bot is recorded and skipped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter

from bot.ledger import jobs as jobs_db

log = logging.getLogger(__name__)
ATTEMPTS = 5


async def deliver(
    db, chat_id: int, send: Callable[[], Awaitable[object]], sleep=asyncio.sleep
) -> bool:
    """Run `send` until it succeeds; False when the chat is blocked or every attempt failed."""
    if jobs_db.is_blocked(db, chat_id):
        return False
    delay = 1.0
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await send()
            return True
        except TelegramRetryAfter as exc:
            await sleep(exc.retry_after)
        except TelegramForbiddenError:
            log.warning("chat %s blocked the bot; skipping it from now on", chat_id)
            jobs_db.block_chat(db, chat_id)
            return False
        except TelegramNetworkError as exc:
            log.warning("network error sending to %s (attempt %s): %s", chat_id, attempt, exc)
            await sleep(delay)
            delay *= 2
    return False
