"""Local console chat: the bot's own Dispatcher and handlers, with a session that prints.

Every line is fed as a Telegram Update, so the console runs exactly the bot's flows: policy
questions, /走访 (one line or the guided form), problems, reports. Buttons are printed with a
number; type `按1` to press button 1 of the last message. Files (chart, Excel) are saved under
the data directory and their path printed. Reads a terminal interactively or a pipe line by
line, and stops at the end of input.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import AnswerCallbackQuery, GetMe, SendDocument, SendMessage, SendPhoto
from aiogram.types import Chat, Message, Update, User

from bot.config import Settings
from bot.services.answer import Answerer, ensure_index
from bot.services.ledger_service import LedgerService
from bot.services.ledger_types import Member

WELCOME = (
    "联户助手（本机对话）。直接打字问政策；/帮助 看全部命令；按1 表示点第 1 个按钮；Ctrl+D 退出。"
)
INDEXING = "第一次使用，正在建立政策知识索引，请稍等……"
NO_SUCH_MEMBER = "台账里没有“{name}”，将以未登记身份对话（只能问政策）。"
CONSOLE_USER = 1  # kept for callers; each session speaks from its own chat id (below)
BOT_USER = User(id=1, is_bot=True, first_name="联户助手", username="lianhu_console_bot")


class PrintingSession(BaseSession):
    """Prints what the bot would send; remembers the last buttons so they can be pressed."""

    def __init__(self, out: TextIO, outbox: Path, chat_id: int = CONSOLE_USER):
        super().__init__()
        self.chat_id = chat_id
        self.out = out
        self.outbox = outbox
        self.buttons: list[str] = []
        self.buttons_message_id = 0  # the message the buttons are on: a double press repeats it
        self._ids = itertools.count(100000)

    async def make_request(self, bot, method, timeout=None):
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                print(f"（提示）{method.text}", file=self.out, flush=True)
            return True
        message_id = next(self._ids)
        if isinstance(method, SendMessage):
            print(_plain(method.text), file=self.out, flush=True)
            if self._show_buttons(method.reply_markup):
                self.buttons_message_id = message_id
        elif isinstance(method, (SendPhoto, SendDocument)):
            upload = method.photo if isinstance(method, SendPhoto) else method.document
            self.outbox.mkdir(parents=True, exist_ok=True)
            path = self.outbox / f"{int(time.time())}-{upload.filename}"
            path.write_bytes(upload.data)
            print(f"（文件已保存：{path}）{method.caption or ''}", file=self.out, flush=True)
        if isinstance(method, (SendMessage, SendPhoto, SendDocument)):
            return Message(
                message_id=message_id,
                date=datetime.now(),
                chat=Chat(id=self.chat_id, type="private"),
            )
        return True

    def _show_buttons(self, markup) -> bool:
        if markup is None or not getattr(markup, "inline_keyboard", None):
            return False
        self.buttons = [b.callback_data for row in markup.inline_keyboard for b in row]
        labels = [b.text for row in markup.inline_keyboard for b in row]
        print(
            "  " + "  ".join(f"[{i}] {label}" for i, label in enumerate(labels, 1)),
            file=self.out,
            flush=True,
        )
        return True

    async def close(self):
        pass

    async def stream_content(
        self, *args, **kwargs
    ):  # pragma: no cover - the console downloads nothing
        raise NotImplementedError


class FixedIdentity(BaseMiddleware):
    """The console speaks as one member (or as an unregistered person)."""

    def __init__(self, member: Member | None):
        self.member = member

    async def __call__(self, handler, event, data: dict[str, Any]):
        data["member"] = self.member
        return await handler(event, data)


def _plain(html_text: str) -> str:
    import html

    return html.unescape(html_text)


def pick_member(ledger: LedgerService, name: str | None, role: str | None) -> Member | None:
    if name:
        found = ledger.members_named(name)
        return found[0] if found else None
    if role:
        found = ledger.members_with_role((role,))
        return found[0] if found else None
    return None


async def _run(
    settings: Settings,
    lines: Iterable[str],
    out: TextIO,
    member: Member | None,
    region: str | None = None,
) -> None:
    from bot.app import build_dispatcher
    from bot.fsm_storage import SQLiteStorage

    answerer = Answerer.from_settings(settings)
    ledger = LedgerService.open(settings)
    # Client keys are chat + message id. Each session gets its own random chat id, so two
    # consoles on one ledger (or one run after another) never share a key: they once shared
    # chat 1 with clock-derived message ids, and half of their visits were "already logged".
    chat_id = secrets.randbelow(2**40) + 2**20
    session = PrintingSession(out, settings.data_dir / "outbox", chat_id)
    bot = Bot("1:console", session=session)
    dp = build_dispatcher(
        settings,
        answerer,
        ledger,
        storage=SQLiteStorage(settings.data_dir / "console_fsm.db"),
        identity=FixedIdentity(member),
    )
    dp["region_override"] = region  # --region: the place policy answers assume
    ids = itertools.count(1)
    user = {"id": chat_id, "is_bot": False, "first_name": member.name if member else "访客"}
    chat = {"id": chat_id, "type": "private"}
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text in ("/退出", "/quit", "/exit"):
            break
        n = next(ids)
        if text.startswith("按") and text[1:].strip().isdigit():
            index = int(text[1:].strip()) - 1
            if not 0 <= index < len(session.buttons):
                print("没有这个按钮。", file=out, flush=True)
                continue
            body = {
                "callback_query": {
                    "id": str(n),
                    "from": user,
                    "chat_instance": "console",
                    "data": session.buttons[index],
                    "message": {
                        "message_id": session.buttons_message_id,
                        "date": int(time.time()),
                        "chat": chat,
                    },
                }
            }
        else:
            body = {
                "message": {
                    "message_id": n,
                    "date": int(time.time()),
                    "chat": chat,
                    "from": user,
                    "text": text,
                }
            }
        await dp.feed_update(bot, Update.model_validate({"update_id": n, **body}))


def run_console(
    settings: Settings,
    lines: Iterable[str] | None = None,
    out: TextIO | None = None,
    as_name: str | None = None,
    role: str | None = None,
    region: str | None = None,
) -> None:
    from bot.search.keyword import KeywordIndex

    out = out or sys.stdout  # looked up now: a default bound at import keeps a stale stream
    if not KeywordIndex.exists(settings.index_dir):
        print(INDEXING, file=out, flush=True)
        ensure_index(settings)
    ledger = LedgerService.open(settings)
    member = pick_member(ledger, as_name, role)
    ledger.close_db()
    if (as_name or role) and member is None:
        print(NO_SUCH_MEMBER.format(name=as_name or role), file=out, flush=True)
    interactive = lines is None and sys.stdin.isatty()
    if interactive:
        print(WELCOME, file=out, flush=True)
    source = lines if lines is not None else _stdin_lines(interactive)
    asyncio.run(_run(settings, source, out, member, region))


def _stdin_lines(interactive: bool):
    while True:
        try:
            line = input("> ") if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and line == "":
            return
        yield line
