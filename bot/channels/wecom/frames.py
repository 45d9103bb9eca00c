"""Frames of the WeCom 智能机器人 long connection, as plain dicts, and the parsing of what arrives.

Source: 企业微信开发者中心 › 智能机器人 › 智能机器人长连接 (developer.work.weixin.qq.com/document/
path/101463) and 接收事件 (path/101027); shapes checked against the official Node SDK
(WecomTeam/aibot-node-sdk, src/types/api.ts). Every frame is `{cmd, headers: {req_id}, body}`;
the server acknowledges a request with `{headers: {req_id}, errcode, errmsg}` (same req_id).

- `aibot_subscribe` {bot_id, secret}: the first frame on a new connection;
- `ping`: the heartbeat (every 30 s; two unanswered pings mean the connection is dead);
- `aibot_msg_callback` / `aibot_event_callback`: a message or an event for us;
- `aibot_respond_msg` with the callback's req_id: the reply to that message (stream or card);
- `aibot_respond_welcome_msg`: the reply to `enter_chat`, within 5 s;
- `aibot_send_msg` {chatid, chat_type, msgtype, ...}: an active push, no callback needed;
- `aibot_upload_media_init/_chunk/_finish`: upload a temporary file (512 KB chunks) → media_id.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass

DEFAULT_URL = "wss://openws.work.weixin.qq.com"

SUBSCRIBE = "aibot_subscribe"
PING = "ping"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
SEND = "aibot_send_msg"
UPLOAD_INIT = "aibot_upload_media_init"
UPLOAD_CHUNK = "aibot_upload_media_chunk"
UPLOAD_FINISH = "aibot_upload_media_finish"
MSG_CALLBACK = "aibot_msg_callback"
EVENT_CALLBACK = "aibot_event_callback"
CALLBACKS = (MSG_CALLBACK, EVENT_CALLBACK)

CHUNK_BYTES = 512 * 1024  # the documented chunk size
MAX_CHUNKS = 100
# Stream replies take 20480 bytes and markdown pushes less; one piece of text stays under both.
TEXT_PIECE_BYTES = 4000
CARD_BUTTONS_MAX = 6  # button_list of a button_interaction card
CARD_TITLE_MAX = 26  # "建议不超过 26 个字"
CARD_TEXT_MAX = 112  # sub_title_text
BUTTON_TEXT_MAX = 10
SINGLE, GROUP = 1, 2  # chat_type of aibot_send_msg


def new_req_id(prefix: str) -> str:
    return f"{prefix}_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def frame(cmd: str, body: dict | None = None, req_id: str | None = None) -> dict:
    out: dict = {"cmd": cmd, "headers": {"req_id": req_id or new_req_id(cmd)}}
    if body is not None:
        out["body"] = body
    return out


def subscribe(bot_id: str, secret: str) -> dict:
    return frame(SUBSCRIBE, {"bot_id": bot_id, "secret": secret})


def ping() -> dict:
    return frame(PING)


@dataclass(frozen=True)
class Target:
    """Where a push goes: a person's userid (single chat) or a group's chatid."""

    chatid: str
    group: bool = False

    def push(self, body: dict) -> dict:
        return {"chatid": self.chatid, "chat_type": GROUP if self.group else SINGLE, **body}


# -- bodies --------------------------------------------------------------------------------------
def stream_text(text: str) -> dict:
    """A finished stream: the documented way to answer a message with text (Markdown)."""
    return {
        "msgtype": "stream",
        "stream": {"id": new_req_id("stream"), "finish": True, "content": text},
    }


def markdown(text: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": text}}


def welcome_text(text: str) -> dict:
    return {"msgtype": "text", "text": {"content": text}}


def button_card(title: str, text: str, buttons: list[tuple[str, str]], task_id: str) -> dict:
    """A button_interaction card; each button's key is the callback data it stands for."""
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        "task_id": task_id,
        "button_list": [
            {"text": label[:BUTTON_TEXT_MAX], "style": 1, "key": key} for label, key in buttons
        ],
    }
    if text:
        card["sub_title_text"] = text
    return {"msgtype": "template_card", "template_card": card}


def media(kind: str, media_id: str) -> dict:
    return {"msgtype": kind, kind: {"media_id": media_id}}


def upload_init(kind: str, filename: str, data: bytes) -> dict:
    return {
        "type": kind,
        "filename": filename,
        "total_size": len(data),
        "total_chunks": chunk_count(data),
        "md5": hashlib.md5(data).hexdigest(),
    }


def chunk_count(data: bytes) -> int:
    return (len(data) + CHUNK_BYTES - 1) // CHUNK_BYTES


def upload_chunks(upload_id: str, data: bytes) -> list[dict]:
    return [
        {
            "upload_id": upload_id,
            "chunk_index": index,
            "base64_data": base64.b64encode(data[start : start + CHUNK_BYTES]).decode("ascii"),
        }
        for index, start in enumerate(range(0, len(data), CHUNK_BYTES))
    ]


def split_text(text: str, limit: int = TEXT_PIECE_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    pieces, current = [], ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # one overlong line: cut it by characters
            cut = _fit(line, limit)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode()) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return [p.rstrip("\n") for p in pieces] or [""]


def _fit(line: str, limit: int) -> int:
    size, count = 0, 0
    for ch in line:
        size += len(ch.encode())
        if size > limit:
            break
        count += 1
    return max(count, 1)


# -- what arrives --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Inbound:
    """One callback, reduced to what Lianhu acts on.

    kind: "text" (typed, or a voice message WeCom already transcribed), "button" (a template
    card button), "enter" (the person opened the chat), "media" (a picture or file: not read),
    "disconnected" (the server closed this connection for a newer one), "other".
    """

    kind: str
    req_id: str
    msgid: str
    userid: str
    target: Target
    text: str = ""
    task_id: str = ""
    event_key: str = ""


MENTION = re.compile(r"^(?:@\S+\s*)+")


def parse(message: dict) -> Inbound | None:
    """An Inbound for a callback frame; None for anything else (acks, pings)."""
    if message.get("cmd") not in CALLBACKS:
        return None
    body = message.get("body") or {}
    req_id = (message.get("headers") or {}).get("req_id", "")
    userid = str((body.get("from") or {}).get("userid", ""))
    group = body.get("chattype") == "group"
    target = Target(str(body.get("chatid") or userid), group) if group else Target(userid)
    common = {"req_id": req_id, "msgid": str(body.get("msgid") or req_id), "userid": userid}
    msgtype = body.get("msgtype")
    if msgtype == "event":
        event = body.get("event") or {}
        kind = event.get("eventtype", "")
        if kind == "template_card_event":
            detail = event.get("template_card_event") or {}
            return Inbound(
                "button",
                target=target,
                task_id=str(detail.get("task_id", "")),
                event_key=str(detail.get("event_key", "")),
                **common,
            )
        if kind == "enter_chat":
            return Inbound("enter", target=target, **common)
        if kind == "disconnected_event":
            return Inbound("disconnected", target=target, **common)
        return Inbound("other", target=target, **common)
    text = _text_of(body)
    if text is None:
        kind = "media" if msgtype in ("image", "file", "video", "mixed") else "other"
        return Inbound(kind, target=target, **common)
    if group:  # a group message reaches the bot only when it is @mentioned: drop the mention
        text = MENTION.sub("", text.strip())
    return Inbound("text", target=target, text=text, **common)


def _text_of(body: dict) -> str | None:
    msgtype = body.get("msgtype")
    if msgtype == "text":
        return str((body.get("text") or {}).get("content", ""))
    if msgtype == "voice":  # WeCom sends voice already turned into text
        return str((body.get("voice") or {}).get("content", ""))
    if msgtype == "mixed":
        items = (body.get("mixed") or {}).get("msg_item") or []
        parts = [
            str((i.get("text") or {}).get("content", ""))
            for i in items
            if i.get("msgtype") == "text"
        ]
        return "\n".join(p for p in parts if p) if parts else None
    return None
