"""A real aiogram Dispatcher with a session that records API calls instead of sending them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import (
    AnswerCallbackQuery,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
)
from aiogram.types import Chat, Message, Update, User

from bot.app import build_dispatcher

BOT_USER = User(id=4242, is_bot=True, first_name="联户助手", username="lianhu_bot")
_ids = itertools.count(1000)


class RecordingSession(BaseSession):
    def __init__(self):
        super().__init__()
        self.calls: list[Any] = []

    async def make_request(self, bot, method, timeout=None):
        self.calls.append(method)
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, (SendMessage, SendPhoto, SendDocument)):
            return Message(
                message_id=next(_ids),
                date=datetime.now(),
                chat=Chat(id=method.chat_id, type="private"),
                text=getattr(method, "text", None),
            )
        if isinstance(method, (AnswerCallbackQuery, SetMyCommands)):
            return True
        return True

    async def close(self):
        pass

    async def stream_content(self, *args, **kwargs):  # pragma: no cover - not used
        raise NotImplementedError


class Harness:
    """Feeds real Update objects through the real Dispatcher and collects what the bot said."""

    def __init__(self, settings, answerer, ledger):
        self.session = RecordingSession()
        self.bot = Bot("123:ABC", session=self.session)
        self.dp = build_dispatcher(settings, answerer, ledger, storage=MemoryStorage())
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)

    async def send(
        self,
        text: str | None = None,
        user_id: int = 1,
        chat_type: str = "private",
        message_id: int | None = None,
        **extra,
    ) -> list[str]:
        before = len(self.session.calls)
        message = {
            "message_id": message_id or next(self.message_ids),
            "date": int(datetime.now().timestamp()),
            "chat": {"id": user_id if chat_type == "private" else -100, "type": chat_type},
            "from": {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"},
            **({"text": text} if text is not None else {}),
            **extra,
        }
        await self.dp.feed_update(
            self.bot,
            Update.model_validate({"update_id": next(self.update_ids), "message": message}),
        )
        return self.replies(before)

    async def press(
        self, data: str, user_id: int = 1, message_id: int = 1, callback_id: str | None = None
    ) -> list[str]:
        before = len(self.session.calls)
        update = {
            "update_id": next(self.update_ids),
            "callback_query": {
                "id": callback_id or str(next(_ids)),
                "from": {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"},
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(datetime.now().timestamp()),
                    "chat": {"id": user_id, "type": "private"},
                    "text": "按钮",
                },
            },
        }
        await self.dp.feed_update(self.bot, Update.model_validate(update))
        return self.replies(before)

    def replies(self, since: int = 0) -> list[str]:
        out = []
        for call in self.session.calls[since:]:
            if isinstance(call, SendMessage):
                out.append(call.text)
            elif isinstance(call, AnswerCallbackQuery):
                out.append(f"[提示]{call.text or ''}")
            elif isinstance(call, SendPhoto):
                out.append("[图片]")
            elif isinstance(call, SendDocument):
                out.append("[文件]")
        return out

    def last_markup(self):
        for call in reversed(self.session.calls):
            if isinstance(call, SendMessage) and call.reply_markup is not None:
                return call.reply_markup
        return None
