"""Sending to a Telegram chat that may be slow, rate-limited or gone, for callers that hold a
chat id and an aiogram call: aiogram's exceptions are translated into the channel vocabulary and
`bot.channels.notifier.deliver` applies the policy (429 waits `retry_after`, network errors back
off, a chat that blocked the bot is recorded and skipped)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.channels import TELEGRAM
from bot.channels import notifier as channel_notifier
from bot.channels.telegram.notifier import translated


async def deliver(
    db, chat_id: int, send: Callable[[], Awaitable[object]], sleep=asyncio.sleep
) -> bool:
    """Run `send` until it succeeds; False when the chat is blocked or every attempt failed."""
    return await channel_notifier.deliver(
        db, TELEGRAM, str(chat_id), lambda: translated(send), sleep=sleep
    )
