"""Telegram's notifier: aiogram's Bot, its exceptions translated into the channel vocabulary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile

from bot.channels import TELEGRAM
from bot.channels.notifier import RateLimited, RecipientBlocked, TemporarilyUnavailable


async def translated(send: Callable[[], Awaitable[object]]) -> object:
    """Run a Telegram call, raising the channel vocabulary instead of aiogram's exceptions."""
    try:
        return await send()
    except TelegramRetryAfter as exc:
        raise RateLimited(exc.retry_after, str(exc)) from exc
    except TelegramForbiddenError as exc:
        raise RecipientBlocked(str(exc)) from exc
    except TelegramBadRequest as exc:
        if "chat not found" in str(exc).lower():  # the account was deleted
            raise RecipientBlocked(str(exc)) from exc
        raise
    except TelegramNetworkError as exc:
        raise TemporarilyUnavailable(str(exc)) from exc


class TelegramNotifier:
    channel = TELEGRAM

    def __init__(self, bot: Bot):
        self.bot = bot

    async def send_text(self, external_id: str, text: str) -> None:
        await translated(lambda: self.bot.send_message(int(external_id), text, parse_mode=None))

    async def send_picture(self, external_id: str, data: bytes, filename: str) -> None:
        photo = BufferedInputFile(data, filename)
        await translated(lambda: self.bot.send_photo(int(external_id), photo))

    async def send_file(self, external_id: str, data: bytes, filename: str) -> None:
        document = BufferedInputFile(data, filename)
        await translated(lambda: self.bot.send_document(int(external_id), document))
