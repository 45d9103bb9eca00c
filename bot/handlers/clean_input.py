"""Every message's text and caption without control characters, before any filter or handler.

One \x0b or NUL typed into a visit note used to be stored as it came and then break every
Excel export of its village. Cleaning here covers every chat path at once (Telegram, WeCom, the
console, the guided forms); the services clean again for callers that do not come through chat.
"""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

from bot.services.text_safety import clean_text, has_control_characters


class CleanTextMiddleware(BaseMiddleware):
    async def __call__(self, handler, event: TelegramObject, data: dict[str, Any]):
        if isinstance(event, Message):
            changes = {
                name: clean_text(value)
                for name in ("text", "caption")
                if (value := getattr(event, name)) and has_control_characters(value)
            }
            if changes:
                # aiogram's objects are frozen: hand on a cleaned copy, bound to the same bot
                event = event.model_copy(update=changes)
                if data.get("bot") is not None:
                    event = event.as_(data["bot"])
        return await handler(event, data)
