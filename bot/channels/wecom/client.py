"""What Lianhu does over the long connection: answer a message, push to a person or group, send
the welcome, upload a file; WeCom's refusals translated into the channel vocabulary."""

from __future__ import annotations

from bot.channels.notifier import (
    DeliveryError,
    RateLimited,
    RecipientBlocked,
    TemporarilyUnavailable,
)
from bot.channels.wecom import frames
from bot.channels.wecom.connection import NotConnected, WeComConnection, WeComError

# From WeCom's global error codes (企业微信 全局错误码): frequency limits, and addresses that do
# not (or no longer) exist for this bot. Anything else is a plain failure, not retried.
RATE_LIMIT_CODES = {45009, 45033}
GONE_CODES = {40003, 60011, 60111, 81013}
RATE_LIMIT_WAIT_S = 60.0


class WeComClient:
    def __init__(self, connection: WeComConnection):
        self.connection = connection

    async def respond(self, req_id: str, body: dict) -> None:
        """Answer the callback with this req_id (a message: stream or card)."""
        await self._call(frames.RESPOND, body, req_id)

    async def welcome(self, req_id: str, text: str) -> None:
        await self._call(frames.RESPOND_WELCOME, frames.welcome_text(text), req_id)

    async def push(self, target: frames.Target, body: dict) -> None:
        await self._call(frames.SEND, target.push(body))

    async def push_text(self, target: frames.Target, text: str) -> None:
        for piece in frames.split_text(text):
            await self.push(target, frames.markdown(piece))

    async def push_media(
        self, target: frames.Target, kind: str, data: bytes, filename: str
    ) -> None:
        """Upload (init → chunks → finish) and push the picture ("image") or file ("file")."""
        media_id = await self.upload(kind, filename, data)
        await self.push(target, frames.media(kind, media_id))

    async def upload(self, kind: str, filename: str, data: bytes) -> str:
        if not data or frames.chunk_count(data) > frames.MAX_CHUNKS:
            raise DeliveryError(f"文件大小不合适：{len(data)} 字节")
        ack = await self._call(frames.UPLOAD_INIT, frames.upload_init(kind, filename, data))
        upload_id = (ack.get("body") or {}).get("upload_id")
        if not upload_id:
            raise DeliveryError("企业微信没有返回 upload_id")
        for chunk in frames.upload_chunks(upload_id, data):
            await self._call(frames.UPLOAD_CHUNK, chunk)
        ack = await self._call(frames.UPLOAD_FINISH, {"upload_id": upload_id})
        media_id = (ack.get("body") or {}).get("media_id")
        if not media_id:
            raise DeliveryError("企业微信没有返回 media_id")
        return media_id

    async def _call(self, cmd: str, body: dict, req_id: str | None = None) -> dict:
        try:
            return await self.connection.request(cmd, body, req_id)
        except WeComError as exc:
            if exc.errcode in RATE_LIMIT_CODES:
                raise RateLimited(RATE_LIMIT_WAIT_S, str(exc)) from exc
            if exc.errcode in GONE_CODES:
                raise RecipientBlocked(str(exc)) from exc
            raise DeliveryError(str(exc)) from exc
        except (NotConnected, TimeoutError) as exc:
            raise TemporarilyUnavailable(str(exc) or "企业微信没有回应") from exc
