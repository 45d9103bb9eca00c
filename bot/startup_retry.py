"""Bot API calls made at start (getMe, the command menu, the webhook), retried with backoff.

A bot started while the network or the Bot API is down used to exit at its first call; now it
waits (1, 2, 4 … up to 60 seconds between tries) and comes up when the API answers. A token
Telegram refuses is not retried: it stops with one line saying so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.config_check import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")
BAD_TOKEN = (
    "Telegram 不认这个机器人令牌（环境变量 LIANHU_BOT__TOKEN）：请向 @BotFather 核对后重新设置。"
)


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    what: str,
    first_delay: float = 1.0,
    max_delay: float = 60.0,
    attempts: int | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """`call()` until it succeeds; `attempts=None` tries for as long as it takes."""
    delay = first_delay
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except TelegramUnauthorizedError:
            raise ConfigError(BAD_TOKEN) from None
        except TelegramRetryAfter as exc:
            wait, error = float(exc.retry_after), exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            wait, error = delay, exc
            delay = min(delay * 2, max_delay)
        if attempts is not None and attempt >= attempts:
            raise error
        log.warning(
            "Bot API %s failed (attempt %d: %s); retrying in %.1f s", what, attempt, error, wait
        )
        await sleep(wait)
