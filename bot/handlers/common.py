"""Shared pieces of the handlers: command filters, identity, the member filter, safe long
replies, client keys."""

from __future__ import annotations

import html
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import BaseFilter, Command
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot import texts
from bot.channels import TELEGRAM
from bot.ledger.identities import ChannelIdentity
from bot.services.ledger_service import LedgerService

TELEGRAM_LIMIT = 4096
# Raw characters per piece: escaping (& → &amp;) may grow a piece, so stay well under the limit.
SAFE_PIECE = 3000
MAX_INPUT = 1500  # characters of one message we accept


def command(name: str) -> Command:
    """A command by its Latin name and Chinese aliases, with / or ／, with or without @bot."""
    return Command(*texts.aliases_of(name), prefix="/／", ignore_case=True)


def client_key(message: Message) -> str:
    """Stable across redelivery of the same update: Telegram's chat and message id, or the key
    another channel puts on the message it builds (WeCom: `wecom:<msgid>`)."""
    channel_key = (message.model_extra or {}).get("lianhu_key")
    return channel_key or f"tg:{message.chat.id}:{message.message_id}"


def split_message(text: str, limit: int = SAFE_PIECE) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible."""
    pieces, current = [], ""
    for line in text.splitlines(keepends=True):
        for begin in range(0, len(line), limit):  # a single overlong line is cut
            chunk = line[begin : begin + limit]
            if len(current) + len(chunk) > limit:
                pieces.append(current)
                current = ""
            current += chunk
    if current:
        pieces.append(current)
    return pieces or [""]


async def reply(message: Message, text: str, **kwargs: Any) -> None:
    """HTML-escaped, split under the limit; keyboards go on the last piece."""
    pieces = split_message(text)
    for i, piece in enumerate(pieces):
        extra = kwargs if i == len(pieces) - 1 else {}
        await message.answer(html.escape(piece), **extra)


class IdentityMiddleware(BaseMiddleware):
    """Puts `identity` (channel and the channel's id of the sender) and `member` (the registered
    Lianhu member bound to it, or None) into every handler's data. Telegram updates carry the
    Telegram user; another channel passes its own `identity` when it feeds the update."""

    def __init__(self, ledger: LedgerService):
        self.ledger = ledger

    async def __call__(self, handler, event: TelegramObject, data: dict[str, Any]):
        identity = data.get("identity")
        user = data.get("event_from_user")
        if identity is None and user is not None:
            identity = data["identity"] = ChannelIdentity(TELEGRAM, str(user.id))
        data["member"] = self.ledger.member_by_identity(identity) if identity else None
        return await handler(event, data)


class IsMember(BaseFilter):
    """Passes registered members only. On a ledger router it replaces a guard at the top of
    every handler; what it lets through falls to the fallback router, which asks the sender
    to register."""

    async def __call__(self, event: Message | CallbackQuery, member=None) -> bool:
        return member is not None


class Routes:
    """Handler registrations of one feature, turned into a fresh Router for each Dispatcher
    (an aiogram Router can be attached only once, and tests build many dispatchers).
    members_only: the whole router serves registered members only."""

    def __init__(self, name: str, members_only: bool = False):
        self.name = name
        self.members_only = members_only
        self._entries: list[tuple[str, tuple, Any]] = []

    def message(self, *filters):
        return self._register("message", filters)

    def callback_query(self, *filters):
        return self._register("callback_query", filters)

    def _register(self, kind: str, filters: tuple):
        def decorator(handler):
            self._entries.append((kind, filters, handler))
            return handler

        return decorator

    def build(self) -> Router:
        router = Router(name=self.name)
        if self.members_only:
            router.message.filter(IsMember())
            router.callback_query.filter(IsMember())
        for kind, filters, handler in self._entries:
            getattr(router, kind).register(handler, *filters)
        return router
