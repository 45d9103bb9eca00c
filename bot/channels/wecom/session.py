"""The handlers' Bot API calls, spoken as WeCom frames.

sendMessage → the first answer to a message goes back on its req_id (aibot_respond_msg, a
finished stream), everything else is pushed (aibot_send_msg, markdown). Inline buttons → a
button_interaction template card whose button keys are the callback data (at most 6 buttons),
or a numbered list answered by typing the number (more than 6). sendPhoto / sendDocument →
upload over the connection, then an image or file message. answerCallbackQuery → WeCom has no
pop-up notice, so its text becomes a message. HTML escaping of the handlers is undone: WeCom
shows Markdown.
"""

from __future__ import annotations

import html
import logging
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
)
from aiogram.types import Chat, Message, User

from bot import texts
from bot.channels.notifier import DeliveryError
from bot.channels.wecom import frames
from bot.channels.wecom.client import WeComClient

log = logging.getLogger(__name__)
USERNAME = "lianhu_wecom"


@dataclass
class Conversation:
    """The callback being handled right now (one per task, through a ContextVar)."""

    req_id: str
    chat_id: int
    can_respond: bool  # a message callback, not yet answered on its req_id


CONVERSATION: ContextVar[Conversation | None] = ContextVar("wecom_conversation", default=None)


@dataclass
class Chats:
    """Synthetic Telegram chat ids ↔ WeCom addresses, and the buttons last shown in each chat."""

    targets: dict[int, frames.Target] = field(default_factory=dict)
    choices: dict[int, tuple[int, list[str]]] = field(default_factory=dict)


def new_message_id() -> int:
    # random, not counted: a card pressed after a restart must not share an id (and so a
    # button's client key) with a card sent before it
    return secrets.randbits(62)


def task_id_of(message_id: int) -> str:
    return f"lianhu_{message_id}"


def message_id_of(task_id: str) -> int | None:
    head, _, number = task_id.partition("_")
    return int(number) if head == "lianhu" and number.isdigit() else None


class WeComSession(BaseSession):
    def __init__(self, client: WeComClient, chats: Chats):
        super().__init__()
        self.client = client
        self.chats = chats

    async def make_request(self, bot, method, timeout=None):
        if isinstance(method, GetMe):
            return User(id=bot.id, is_bot=True, first_name="联户助手", username=USERNAME)
        if isinstance(method, AnswerCallbackQuery):
            conversation = CONVERSATION.get()
            if method.text and conversation is not None:
                await self._send_text(conversation.chat_id, method.text)
            return True
        if isinstance(method, SendMessage):
            text = _plain(method.text, _resolve(bot, method.parse_mode))
            await self._send_message(int(method.chat_id), text, method.reply_markup)
            return self._sent(method.chat_id)
        if isinstance(method, (SendPhoto, SendDocument)):
            photo = isinstance(method, SendPhoto)
            upload = method.photo if photo else method.document
            chat_id = int(method.chat_id)
            if method.caption:
                await self._send_text(
                    chat_id, _plain(method.caption, _resolve(bot, method.parse_mode))
                )
            await self.client.push_media(
                self._target(chat_id), "image" if photo else "file", upload.data, upload.filename
            )
            return self._sent(chat_id)
        if isinstance(method, (SetMyCommands, DeleteWebhook)):
            return True  # Telegram's set-up calls mean nothing here
        raise DeliveryError(f"企业微信通道不支持 {type(method).__name__}")

    async def _send_message(self, chat_id: int, text: str, markup) -> None:
        rows = getattr(markup, "inline_keyboard", None) or []
        buttons = [(b.text, b.callback_data) for row in rows for b in row if b.callback_data]
        links = [f"{b.text}：{b.url}" for row in rows for b in row if b.url]
        if links:
            text = "\n".join([text, *links])
        if not buttons:
            self.chats.choices.pop(chat_id, None)
            await self._send_text(chat_id, text)
            return
        message_id = new_message_id()
        self.chats.choices[chat_id] = (message_id, [key for _, key in buttons])
        if len(buttons) > frames.CARD_BUTTONS_MAX:
            numbered = [f"{i}. {label}" for i, (label, _) in enumerate(buttons, 1)]
            await self._send_text(chat_id, "\n".join([text, *numbered, texts.WECOM_TYPE_NUMBER]))
            return
        title, _, rest = text.strip().partition("\n")
        if len(title) > frames.CARD_TITLE_MAX or len(rest) > frames.CARD_TEXT_MAX:
            await self._send_text(chat_id, text)  # too long for a card: the text, then the card
            title, rest = texts.WECOM_CARD_TITLE, ""
        card = frames.button_card(title, rest.strip(), buttons, task_id_of(message_id))
        await self._deliver(chat_id, card, card)

    async def _send_text(self, chat_id: int, text: str) -> None:
        for piece in frames.split_text(text):
            await self._deliver(chat_id, frames.stream_text(piece), frames.markdown(piece))

    async def _deliver(self, chat_id: int, as_reply: dict, as_push: dict) -> None:
        """The first thing said in answer to a message goes back on its req_id; the rest, and
        anything said after a button press, is pushed."""
        conversation = CONVERSATION.get()
        if conversation and conversation.chat_id == chat_id and conversation.can_respond:
            conversation.can_respond = False
            try:
                await self.client.respond(conversation.req_id, as_reply)
                return
            except DeliveryError as exc:  # e.g. answered too late: a push still reaches them
                log.warning("企业微信回复失败，改为主动推送：%s", exc)
        await self.client.push(self._target(chat_id), as_push)

    def _target(self, chat_id: int) -> frames.Target:
        target = self.chats.targets.get(chat_id)
        if target is None:
            raise DeliveryError(f"不知道企业微信里的会话 {chat_id}")
        return target

    def _sent(self, chat_id) -> Message:
        chat_type = "group" if int(chat_id) < 0 else "private"
        return Message(
            message_id=new_message_id(),
            date=datetime.now(),
            chat=Chat(id=int(chat_id), type=chat_type),
        )

    async def close(self):
        pass

    async def stream_content(self, *args, **kwargs):  # pragma: no cover - nothing is downloaded
        raise DeliveryError("企业微信通道不下载文件")


def _resolve(bot, parse_mode):
    return bot.default[parse_mode.name] if isinstance(parse_mode, Default) else parse_mode


def _plain(text: str, parse_mode) -> str:
    """The handlers escape for Telegram's HTML; WeCom shows the text itself."""
    return html.unescape(text) if parse_mode == "HTML" else text
