"""One WeCom long connection: subscribe, heartbeat, reconnect, and requests matched to their acks.

Spoken over aiohttp (already a dependency) rather than the official `wecom-aibot-python-sdk`:
its 1.0.2 passes an SSL context to every URL, so it cannot be pointed at a plain ws:// test
server ("ssl argument is incompatible with a ws:// URI"), it has no media upload (the chart and
the Excel export need one), its reconnect calls connect() from inside connect() and gives up
after 10 attempts, and a read error other than a close ends its receive loop for good.

The read loop never waits for a handler: callbacks are handed to `on_callback` as tasks, so the
acks of the replies those handlers send keep being read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from bot.channels.wecom import frames

log = logging.getLogger(__name__)

AUTH_TIMEOUT_S = 10.0
AUTH_FAILED_RETRY_S = 60.0


class WeComError(Exception):
    """The server refused a request: errcode and errmsg as it sent them."""

    def __init__(self, errcode: int, errmsg: str, cmd: str = ""):
        super().__init__(f"{cmd} errcode={errcode} {errmsg}".strip())
        self.errcode = errcode
        self.errmsg = errmsg


class NotConnected(Exception):
    """No authenticated connection (yet, or any more) to send on."""


class WeComConnection:
    def __init__(
        self,
        bot_id: str,
        secret: str,
        url: str = frames.DEFAULT_URL,
        on_callback: Callable[[dict], Awaitable[None]] | None = None,
        heartbeat_s: float = 30.0,
        ack_timeout_s: float = 10.0,
        max_backoff_s: float = 30.0,
    ):
        self.bot_id = bot_id
        self.secret = secret
        self.url = url
        self.on_callback = on_callback
        self.heartbeat_s = heartbeat_s
        self.ack_timeout_s = ack_timeout_s
        self.max_backoff_s = max_backoff_s
        self.ready = asyncio.Event()
        self.authenticated_count = 0  # how many times a connection was (re)established
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._tasks: set[asyncio.Task] = set()
        self._missed_pings = 0
        self._stopped = False

    # -- the connection's life --------------------------------------------------------------------
    async def run_forever(self) -> None:
        """Connect, subscribe and read until stopped; reconnect with backoff after any drop."""
        backoff = 1.0
        async with aiohttp.ClientSession() as http:
            while not self._stopped:
                try:
                    async with http.ws_connect(self.url, max_msg_size=0) as ws:
                        await self._subscribe(ws)
                        backoff = 1.0
                        await self._serve(ws)
                    if not self._stopped:
                        log.warning("企业微信长连接断开，%.0f 秒后重连", backoff)
                except WeComError as exc:
                    log.error(
                        "企业微信机器人认证失败（%s）：请检查 LIANHU_WECOM__BOT_ID 和 "
                        "LIANHU_WECOM__SECRET，%d 秒后重试",
                        exc,
                        AUTH_FAILED_RETRY_S,
                    )
                    backoff = AUTH_FAILED_RETRY_S
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    log.warning("连不上企业微信（%s），%.0f 秒后重试", exc, backoff)
                finally:
                    self._lost()
                if self._stopped:
                    break
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    async def stop(self) -> None:
        self._stopped = True
        if self._ws is not None:
            await self._ws.close()
        for task in list(self._tasks):
            task.cancel()

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        request = frames.subscribe(self.bot_id, self.secret)
        await ws.send_str(json.dumps(request, ensure_ascii=False))
        # nothing else is expected before the answer to the subscription
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            while True:
                message = await ws.receive()
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise aiohttp.ClientError(
                        f"connection closed during subscribe ({message.type})"
                    )
                answer = json.loads(message.data)
                if answer.get("headers", {}).get("req_id") == request["headers"]["req_id"]:
                    break
        if answer.get("errcode", 0) != 0:
            raise WeComError(answer.get("errcode"), answer.get("errmsg", ""), frames.SUBSCRIBE)
        self._ws = ws
        self._missed_pings = 0
        self.authenticated_count += 1
        self.ready.set()
        log.info("企业微信长连接已认证（第 %d 次）", self.authenticated_count)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(ws))
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    received = json.loads(message.data)
                except ValueError:
                    log.warning("企业微信发来无法解析的数据，已忽略")
                    continue
                self._route(received)
        finally:
            heartbeat.cancel()

    def _route(self, received: dict) -> None:
        cmd = received.get("cmd")
        req_id = (received.get("headers") or {}).get("req_id", "")
        if cmd in frames.CALLBACKS:
            body = received.get("body") or {}
            if (body.get("event") or {}).get("eventtype") == "disconnected_event":
                # a newer connection with the same bot took over: reconnecting would only
                # push it out again, so this process stops listening and says why
                log.error(
                    "企业微信：同一机器人在别处建立了新的长连接，本进程停止接收企业微信消息。"
                )
                self._stopped = True
            if self.on_callback is not None:
                self._spawn(self.on_callback(received))
            return
        if req_id.startswith(frames.PING):
            self._missed_pings = 0
            return
        future = self._pending.get(req_id)
        if future is not None and not future.done():
            future.set_result(received)

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self.heartbeat_s)
            if self._missed_pings >= 2:
                log.warning("企业微信两次心跳无回应，断开重连")
                await ws.close()
                return
            self._missed_pings += 1
            await ws.send_str(json.dumps(frames.ping()))

    def _lost(self) -> None:
        self.ready.clear()
        self._ws = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(NotConnected("企业微信长连接断开"))

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- requests ---------------------------------------------------------------------------------
    async def request(
        self, cmd: str, body: dict, req_id: str | None = None, wait_s: float = 30.0
    ) -> dict:
        """Send one frame and return the server's ack; raise WeComError on a non-zero errcode,
        NotConnected when no connection comes up within `wait_s` or it drops before the ack."""
        try:
            await asyncio.wait_for(self.ready.wait(), wait_s)
        except TimeoutError as exc:
            raise NotConnected("企业微信长连接未建立") from exc
        request = frames.frame(cmd, body, req_id)
        req_id = request["headers"]["req_id"]
        # acks carry only the req_id: replies sharing one (several answers to one message) go
        # one at a time, each waiting for its own ack
        lock = self._locks.setdefault(req_id, asyncio.Lock())
        self._lock_users[req_id] = self._lock_users.get(req_id, 0) + 1
        try:
            async with lock:
                ws = self._ws
                if ws is None:
                    raise NotConnected("企业微信长连接断开")
                future = asyncio.get_running_loop().create_future()
                self._pending[req_id] = future
                try:
                    await ws.send_str(json.dumps(request, ensure_ascii=False))
                    ack = await asyncio.wait_for(future, self.ack_timeout_s)
                except (ConnectionError, aiohttp.ClientError) as exc:
                    raise NotConnected(str(exc)) from exc
                finally:
                    self._pending.pop(req_id, None)
        finally:
            self._lock_users[req_id] -= 1
            if not self._lock_users[req_id]:
                del self._lock_users[req_id], self._locks[req_id]
        if ack.get("errcode", 0) not in (0, None):
            raise WeComError(ack.get("errcode"), ack.get("errmsg", ""), cmd)
        return ack
