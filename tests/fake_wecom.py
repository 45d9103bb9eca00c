"""A fake WeCom 智能机器人 long-connection server on 127.0.0.1, for end-to-end runs.

It speaks the documented frames (see bot/channels/wecom/frames.py): checks the subscription's
bot id and secret, acknowledges pings, replies, pushes and media uploads (and reassembles the
chunks, checking their md5), and sends message and event callbacks the test asks for. It checks
what the bot sends against the documented limits and answers a violation with an errcode, as
WeCom would; every violation is kept in `errors` so a test can assert there were none.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import re
import time

from aiohttp import WSMsgType, web

INVALID = 40058  # WeCom's "invalid parameter"
AUTH_FAILED = 853000  # "invalid bot_id or secret"
TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")


class FakeWeCom:
    def __init__(self, bot_id: str = "bot-1", secret: str = "s3cret"):
        self.bot_id, self.secret = bot_id, secret
        self.frames: list[dict] = []  # everything the bot sent, in order
        self.errors: list[str] = []
        self.subscriptions = 0
        self.pings = 0
        self.media: dict[str, dict] = {}  # media_id → {type, filename, data}
        self.callbacks: dict[str, dict] = {}  # req_id → the callback we sent
        self.answer_pings = True  # False: a connection that silently died
        self.refuse: dict[str, int] = {}  # cmd → errcode to answer its next request with
        self._uploads: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._ws: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/", self._serve)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self.runner:
            await self.runner.cleanup()

    # -- what people do in WeCom ----------------------------------------------------------------
    async def say(self, userid: str, text: str, msgid: str | None = None, group: str = "") -> str:
        """A text message from `userid` (in a group chat when `group` names one)."""
        msgid = msgid or f"msg{next(self._ids)}"
        body = {"msgtype": "text", "text": {"content": text}}
        await self._callback("aibot_msg_callback", userid, msgid, body, group)
        return msgid

    async def send_image(self, userid: str) -> str:
        msgid = f"msg{next(self._ids)}"
        body = {"msgtype": "image", "image": {"url": "https://example.invalid/x", "aeskey": "k"}}
        await self._callback("aibot_msg_callback", userid, msgid, body)
        return msgid

    async def press(self, userid: str, task_id: str, key: str) -> str:
        """A click on a template card button (a new msgid per click, as WeCom sends)."""
        msgid = f"evt{next(self._ids)}"
        event = {
            "eventtype": "template_card_event",
            "template_card_event": {
                "card_type": "button_interaction",
                "event_key": key,
                "task_id": task_id,
            },
        }
        await self._callback(
            "aibot_event_callback", userid, msgid, {"msgtype": "event", "event": event}
        )
        return msgid

    async def enter_chat(self, userid: str) -> str:
        msgid = f"evt{next(self._ids)}"
        body = {"msgtype": "event", "event": {"eventtype": "enter_chat"}}
        await self._callback("aibot_event_callback", userid, msgid, body)
        return msgid

    async def redeliver(self, req_id: str) -> None:
        """The same callback again (same msgid), as WeCom does after a network hiccup."""
        await self._send(self.callbacks[req_id])

    async def drop(self) -> None:
        """The network drops the connection."""
        ws, self._ws = self._ws, None
        self._connected.clear()
        if ws is not None:
            await ws.close()

    async def _callback(self, cmd: str, userid: str, msgid: str, body: dict, group: str = ""):
        await self.wait_connected()
        req_id = f"cb{next(self._ids)}"
        full = {
            "msgid": msgid,
            "create_time": int(time.time()),
            "aibotid": self.bot_id,
            "chattype": "group" if group else "single",
            "from": {"userid": userid},
            **body,
        }
        if group:
            full["chatid"] = group
        message = {"cmd": cmd, "headers": {"req_id": req_id}, "body": full}
        self.callbacks[req_id] = message
        await self._send(message)

    async def _send(self, message: dict) -> None:
        await self.wait_connected()
        await self._ws.send_str(json.dumps(message, ensure_ascii=False))

    async def wait_connected(self, timeout: float = 60.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    # -- what the bot said ----------------------------------------------------------------------
    def said_to(self, userid: str) -> list[dict]:
        """Bodies of every reply and push that reached `userid`, in order."""
        out = []
        for f in self.frames:
            body = f.get("body") or {}
            if f["cmd"] == "aibot_send_msg" and body.get("chatid") == userid:
                out.append(body)
            elif f["cmd"] in ("aibot_respond_msg", "aibot_respond_welcome_msg"):
                callback = self.callbacks.get(f["headers"]["req_id"])
                if callback and callback["body"]["from"]["userid"] == userid:
                    out.append(body)
        return out

    def texts_to(self, userid: str) -> list[str]:
        return [text_of(b) for b in self.said_to(userid)]

    def cards_to(self, userid: str) -> list[dict]:
        return [
            b["template_card"] for b in self.said_to(userid) if b.get("msgtype") == "template_card"
        ]

    async def wait_said(
        self, userid: str, needle: str, after: int = 0, timeout: float = 60.0
    ) -> str:
        """The first text (from position `after` on) said to `userid` that contains `needle`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in self.texts_to(userid)[after:]:
                if needle in text:
                    return text
            await asyncio.sleep(0.05)
        raise TimeoutError(f"not said to {userid}: {needle!r}; said: {self.texts_to(userid)[-6:]}")

    async def wait_for(self, predicate, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [f for f in self.frames if predicate(f)]
            if found:
                return found
            await asyncio.sleep(0.05)
        raise TimeoutError("no such frame; last frames: " + repr(self.frames[-4:])[:2000])

    # -- the server -------------------------------------------------------------------------------
    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        authed = False
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            cmd, req_id = frame.get("cmd"), (frame.get("headers") or {}).get("req_id", "")
            if not authed:
                body = frame.get("body") or {}
                ok = (
                    cmd == "aibot_subscribe"
                    and body.get("bot_id") == self.bot_id
                    and body.get("secret") == self.secret
                )
                await ws.send_json(_ack(req_id, 0 if ok else AUTH_FAILED))
                if not ok:
                    self.errors.append(f"subscribe refused: {cmd}")
                    await ws.close()
                    break
                authed = True
                self.subscriptions += 1
                self._ws = ws
                self._connected.set()
                continue
            if cmd == "ping":
                self.pings += 1
                if self.answer_pings:
                    await ws.send_json(_ack(req_id))
                continue
            self.frames.append(frame)
            if cmd in self.refuse:
                await ws.send_json(_ack(req_id, self.refuse.pop(cmd)))
                continue
            errcode, body = self._check(frame)
            await ws.send_json(_ack(req_id, errcode, body))
        if self._ws is ws:
            self._ws = None
            self._connected.clear()
        return ws

    def _check(self, frame: dict) -> tuple[int, dict | None]:
        cmd, body = frame.get("cmd"), frame.get("body") or {}
        req_id = frame["headers"]["req_id"]
        problem = None
        if cmd in ("aibot_respond_msg", "aibot_respond_welcome_msg"):
            callback = self.callbacks.get(req_id)
            if callback is None:
                problem = f"{cmd} to an unknown req_id {req_id}"
            elif cmd == "aibot_respond_msg" and callback["cmd"] != "aibot_msg_callback":
                problem = "aibot_respond_msg answers message callbacks only"
            else:
                problem = _check_body(body, "reply" if cmd == "aibot_respond_msg" else "welcome")
        elif cmd == "aibot_send_msg":
            if not body.get("chatid") or body.get("chat_type") not in (1, 2):
                problem = "send_msg without chatid / chat_type"
            else:
                problem = _check_body(body, "push")
        elif cmd == "aibot_upload_media_init":
            upload_id = f"up{next(self._ids)}"
            self._uploads[upload_id] = {**body, "chunks": {}}
            return 0, {"upload_id": upload_id}
        elif cmd == "aibot_upload_media_chunk":
            upload = self._uploads.get(body.get("upload_id"))
            if upload is None:
                problem = "chunk of an unknown upload"
            else:
                upload["chunks"][body["chunk_index"]] = base64.b64decode(body["base64_data"])
                if len(upload["chunks"][body["chunk_index"]]) > 512 * 1024:
                    problem = "chunk over 512 KB"
        elif cmd == "aibot_upload_media_finish":
            upload = self._uploads.pop(body.get("upload_id"), None)
            if upload is None:
                problem = "finish of an unknown upload"
            else:
                data = b"".join(upload["chunks"][i] for i in sorted(upload["chunks"]))
                if (
                    len(upload["chunks"]) != upload["total_chunks"]
                    or len(data) != upload["total_size"]
                    or hashlib.md5(data).hexdigest() != upload["md5"]
                ):
                    problem = "upload does not add up (chunks, size or md5)"
                else:
                    media_id = f"media{next(self._ids)}"
                    self.media[media_id] = {
                        "type": upload["type"],
                        "filename": upload["filename"],
                        "data": data,
                    }
                    return 0, {
                        "media_id": media_id,
                        "type": upload["type"],
                        "created_at": int(time.time()),
                    }
        else:
            problem = f"unknown cmd {cmd}"
        if problem:
            self.errors.append(problem)
            return INVALID, None
        return 0, None


def _check_body(body: dict, use: str) -> str | None:
    msgtype = body.get("msgtype")
    allowed = {
        "reply": ("stream", "template_card", "markdown"),
        "welcome": ("text", "template_card"),
        "push": ("markdown", "template_card", "image", "file"),
    }[use]
    if msgtype not in allowed:
        return f"msgtype {msgtype} not allowed in a {use}"
    if msgtype == "stream":
        stream = body.get("stream") or {}
        if not stream.get("id") or len(stream.get("content", "").encode()) > 20480:
            return "stream without id or over 20480 bytes"
    if msgtype == "markdown" and len(body["markdown"]["content"].encode()) > 4096:
        return "markdown over 4096 bytes"
    if msgtype in ("image", "file") and not (body.get(msgtype) or {}).get("media_id"):
        return f"{msgtype} without media_id"
    if msgtype == "template_card":
        card = body.get("template_card") or {}
        buttons = card.get("button_list") or []
        keys = [b.get("key", "") for b in buttons]
        if card.get("card_type") != "button_interaction" or not TASK_ID.match(
            card.get("task_id", "")
        ):
            return "card type or task_id invalid"
        if not 1 <= len(buttons) <= 6 or len(set(keys)) != len(keys):
            return "button_list must have 1..6 buttons with distinct keys"
        if any(not k or len(k.encode()) > 1024 for k in keys):
            return "button key empty or over 1024 bytes"
        if not (card.get("main_title") or {}).get("title"):
            return "card without main_title.title"
    return None


def _ack(req_id: str, errcode: int = 0, body: dict | None = None) -> dict:
    out = {
        "headers": {"req_id": req_id},
        "errcode": errcode,
        "errmsg": "ok" if not errcode else "invalid",
    }
    if body is not None:
        out["body"] = body
    return out


def text_of(body: dict) -> str:
    """What a person reads in one reply or push."""
    msgtype = body.get("msgtype")
    if msgtype == "stream":
        return body["stream"].get("content", "")
    if msgtype in ("markdown", "text"):
        return body[msgtype]["content"]
    if msgtype == "template_card":
        card = body["template_card"]
        buttons = " ".join(f"[{b['text']}]" for b in card.get("button_list", []))
        return "\n".join(
            x
            for x in (
                card.get("main_title", {}).get("title", ""),
                card.get("sub_title_text", ""),
                buttons,
            )
            if x
        )
    return f"[{msgtype}]"
