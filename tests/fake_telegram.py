"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end runs of the real bot process.

It answers getMe, getUpdates (long polling over a queue the test fills), sendMessage,
sendPhoto, sendDocument, answerCallbackQuery and the set-up calls, and records every call.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import web

BOT = {"id": 4242, "is_bot": True, "first_name": "联户助手", "username": "lianhu_bot"}


class FakeTelegram:
    def __init__(self):
        self.updates: list[dict] = []
        self.calls: list[tuple[str, dict]] = []
        self.first_get_updates: float | None = None
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(5000)
        self._new = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (on `port`, to come up where a bot already waits for it)."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    # -- what users do --------------------------------------------------------------------------
    def push_message(self, user_id: int, text: str, message_id: int | None = None) -> int:
        message_id = message_id or next(self._message_ids)
        self._push(
            {
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private"},
                    "from": {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"},
                    "text": text,
                }
            }
        )
        return message_id

    def push_callback(self, user_id: int, data: str, message_id: int, callback_id: str) -> None:
        self._push(
            {
                "callback_query": {
                    "id": callback_id,
                    "chat_instance": "ci",
                    "data": data,
                    "from": {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"},
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": {"id": user_id, "type": "private"},
                        "text": "按钮",
                    },
                }
            }
        )

    def _push(self, body: dict) -> None:
        self.updates.append({"update_id": next(self._update_ids), **body})
        self._new.set()

    # -- what the bot does ------------------------------------------------------------------------
    def sent(self, chat_id: int | None = None) -> list[dict]:
        return [
            p
            for m, p in self.calls
            if m in ("sendMessage", "sendPhoto", "sendDocument", "answerCallbackQuery")
            and (
                chat_id is None
                or str(p.get("chat_id")) == str(chat_id)
                or m == "answerCallbackQuery"
            )
        ]

    async def wait_for(self, predicate, timeout: float = 60.0) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.calls if predicate(*c)]
            if found:
                return found
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot did not answer in time; calls so far: " + repr(self.calls[-5:]))

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {k: (v if isinstance(v, str) else "<file>") for k, v in form.items()}
        if method == "getUpdates":
            return await self._get_updates(params)
        self.calls.append((method, params))
        if method == "getMe":
            return _ok(BOT)
        if method in ("sendMessage", "sendPhoto", "sendDocument"):
            return _ok(
                {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": {"id": int(params["chat_id"]), "type": "private"},
                    "text": params.get("text", ""),
                }
            )
        return _ok(True)

    async def _get_updates(self, params: dict) -> web.Response:
        if self.first_get_updates is None:
            self.first_get_updates = time.monotonic()
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        pending = [u for u in self.updates if u["update_id"] >= offset]
        if not pending and timeout:
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), timeout)
            except TimeoutError:
                pass
            pending = [u for u in self.updates if u["update_id"] >= offset]
        return _ok(pending)


def _ok(result) -> web.Response:
    return web.Response(
        text=json.dumps({"ok": True, "result": result}, ensure_ascii=False),
        content_type="application/json",
    )
