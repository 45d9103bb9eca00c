"""What the scheduler needs from a channel, and one vocabulary for how sending went.

A notifier sends text, a picture or a file to one recipient (the channel's own id for them). It
reports trouble by raising one of three exceptions, whatever its messenger calls them:

- `RateLimited(retry_after)`: the messenger asked us to wait; we wait that long and try again;
- `TemporarilyUnavailable`: network down, connection not up yet, a timeout; back off and retry;
- `RecipientBlocked`: the person blocked the bot or left the organisation; recorded, never retried.

Any other `DeliveryError` is a refusal that waiting will not fix: logged, not retried.

`deliver` runs one send with that policy and records blocked recipients per channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.ledger import identities

log = logging.getLogger(__name__)
ATTEMPTS = 5
FIRST_BACKOFF_S = 1.0


class DeliveryError(Exception):
    """Base of the three outcomes a notifier may report."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float, detail: str = ""):
        super().__init__(detail or f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class TemporarilyUnavailable(DeliveryError):
    pass


class RecipientBlocked(DeliveryError):
    pass


class Notifier(Protocol):
    """One channel's outbound side, as the scheduler sees it."""

    channel: str

    async def send_text(self, external_id: str, text: str) -> None: ...

    async def send_picture(self, external_id: str, data: bytes, filename: str) -> None: ...

    async def send_file(self, external_id: str, data: bytes, filename: str) -> None: ...


async def deliver(
    db,
    channel: str,
    external_id: str,
    send: Callable[[], Awaitable[object]],
    sleep=asyncio.sleep,
) -> bool:
    """Run `send` until it succeeds; False when the recipient is blocked or every attempt failed."""
    if identities.is_blocked(db, channel, external_id):
        return False
    delay = FIRST_BACKOFF_S
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await send()
            return True
        except RateLimited as exc:
            await sleep(exc.retry_after)
        except RecipientBlocked as exc:
            log.warning("%s %s blocked us (%s); skipping from now on", channel, external_id, exc)
            identities.block(db, channel, external_id)
            return False
        except TemporarilyUnavailable as exc:
            log.warning(
                "%s: sending to %s failed (attempt %s): %s", channel, external_id, attempt, exc
            )
            await sleep(delay)
            delay *= 2
        except DeliveryError as exc:  # refused for a reason waiting will not fix
            log.error("%s: could not send to %s: %s", channel, external_id, exc)
            return False
    return False
