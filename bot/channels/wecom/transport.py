"""WeCom callbacks as aiogram Updates for the shared Dispatcher: every flow of the Telegram bot
(policy questions, /走访 one-line and guided, problem buttons, reports) with no handler of its own.

Telegram ids are numbers; WeCom's are text (userid, chatid). Each WeCom person and group gets a
stable synthetic number above 2**53 (Telegram's own ids fit in 52 bits, so the two never meet):
the same number after a restart, so a half-filled form survives it. Who the person is comes from
the `identities` table: the Update carries `identity = ChannelIdentity("wecom", userid)` in the
workflow data. A message's client key is `wecom:<msgid>`, so a redelivered message (WeCom says it
may redeliver; callbacks carry a msgid for that reason) stores nothing twice. A card button's
task id carries the card's message id, so two presses of one button share a client key.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot import texts
from bot.channels import WECOM
from bot.channels.notifier import DeliveryError
from bot.channels.wecom import frames
from bot.channels.wecom.client import WeComClient
from bot.channels.wecom.session import (
    CONVERSATION,
    USERNAME,
    Chats,
    Conversation,
    message_id_of,
)
from bot.ledger.identities import ChannelIdentity

log = logging.getLogger(__name__)
SYNTHETIC_BASE = 1 << 53
TYPED_CHOICE = re.compile(r"^\s*按?\s*(\d{1,2})\s*$")


def synthetic_id(kind: str, value: str) -> int:
    digest = hashlib.sha256(f"wecom:{kind}:{value}".encode()).digest()
    return SYNTHETIC_BASE + int.from_bytes(digest[:6], "big")


class WeComTransport:
    def __init__(self, client: WeComClient, dp: Dispatcher, bot: Bot, chats: Chats, welcome):
        self.client = client
        self.dp = dp
        self.bot = bot
        self.chats = chats
        self.welcome = welcome  # identity → the welcome text (knows members by name)
        self._locks: dict[int, asyncio.Lock] = {}

    async def on_callback(self, raw: dict) -> None:
        inbound = frames.parse(raw)
        if inbound is None or inbound.kind in ("other", "disconnected") or not inbound.userid:
            return
        user_id = synthetic_id("user", inbound.userid)
        chat_id = -synthetic_id("group", inbound.target.chatid) if inbound.target.group else user_id
        self.chats.targets[chat_id] = inbound.target
        # one chat's messages in the order they came: the guided form depends on it
        async with self._locks.setdefault(chat_id, asyncio.Lock()):
            conversation = Conversation(inbound.req_id, chat_id, can_respond=inbound.kind == "text")
            token = CONVERSATION.set(conversation)
            try:
                await self._handle(inbound, chat_id, user_id)
            except Exception:
                log.exception("企业微信消息处理失败（%s）", inbound.msgid)
                await self._say(chat_id, texts.ERROR)
            finally:
                CONVERSATION.reset(token)

    async def _handle(self, inbound: frames.Inbound, chat_id: int, user_id: int) -> None:
        identity = ChannelIdentity(WECOM, inbound.userid)
        if inbound.kind == "enter":
            await self.client.welcome(inbound.req_id, self.welcome(identity))
            return
        if inbound.kind == "media":
            await self._say(chat_id, texts.WECOM_MEDIA)
            return
        user = {"id": user_id, "is_bot": False, "first_name": inbound.userid}
        chat = {"id": chat_id, "type": "group" if inbound.target.group else "private"}
        if inbound.kind == "button":
            card = message_id_of(inbound.task_id)
            if card is None:
                await self._say(chat_id, texts.BUTTON_BAD)
                return
            body = _callback(inbound.msgid, user, chat, card, inbound.event_key)
        else:
            body = self._typed_choice(inbound, user, chat) or _message(inbound, user, chat)
        update = Update.model_validate({"update_id": _update_id(inbound.msgid), **body})
        await self.dp.feed_update(self.bot, update, identity=identity)

    def _typed_choice(self, inbound: frames.Inbound, user: dict, chat: dict) -> dict | None:
        """`3` or `按3` right after a message with buttons presses its third button."""
        match = TYPED_CHOICE.match(inbound.text)
        shown = self.chats.choices.get(chat["id"])
        if not match or shown is None:
            return None
        card, keys = shown
        index = int(match.group(1)) - 1
        if not 0 <= index < len(keys):
            return None
        return _callback(inbound.msgid, user, chat, card, keys[index])

    async def _say(self, chat_id: int, text: str) -> None:
        try:
            await self.bot.send_message(chat_id, text, parse_mode=None)
        except DeliveryError as exc:
            log.warning("企业微信消息没发出去：%s", exc)


def _message(inbound: frames.Inbound, user: dict, chat: dict) -> dict:
    text = inbound.text
    if inbound.target.group and not text.startswith(("/", "／")):
        text = f"@{USERNAME} {text}"  # the group rules of the handlers answer mentions
    return {
        "message": {
            "message_id": _update_id(inbound.msgid),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
            "lianhu_key": f"wecom:{inbound.msgid}",  # the client key (bot/handlers/common.py)
        }
    }


def _callback(msgid: str, user: dict, chat: dict, card: int, data: str) -> dict:
    return {
        "callback_query": {
            "id": msgid,
            "from": user,
            "chat_instance": "wecom",
            "data": data,
            "message": {"message_id": card, "date": int(time.time()), "chat": chat},
        }
    }


def _update_id(msgid: str) -> int:
    return int.from_bytes(hashlib.sha256(msgid.encode()).digest()[:6], "big")
