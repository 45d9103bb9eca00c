"""The webhook's secret token: random, made once, kept in the data directory (mode 0600).

Telegram sends it back in a header with every update, so only Telegram can post updates to
the webhook. It used to be cut from the bot token, so anyone who saw one saw much of the other;
now it shares nothing with the token and survives restarts (Telegram keeps the registered one).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

SECRET_FILE = "webhook_secret"
# Telegram accepts 1-256 characters of A-Z a-z 0-9 _ -; fewer than 32 is too easy to guess.
USABLE = re.compile(r"[A-Za-z0-9_-]{32,256}")


def webhook_secret(data_dir: Path) -> str:
    """The secret kept in `data_dir`, made (and kept) on first use."""
    path = Path(data_dir) / SECRET_FILE
    try:
        kept = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        kept = ""
    except (UnicodeDecodeError, ValueError):
        kept = ""  # not a secret we wrote: replaced below
    if USABLE.fullmatch(kept):
        if path.stat().st_mode & 0o077:  # copied in with loose permissions: tighten them
            os.chmod(path, 0o600)
        return kept
    return _new_secret(path, replace=path.exists())


def _new_secret(path: Path, replace: bool) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)  # 43 characters, 256 random bits
    side = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    handle = os.open(side, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w", encoding="ascii") as f:
        f.write(secret + "\n")
    try:
        if replace:
            os.replace(side, path)
            return secret
        try:
            os.link(side, path)  # the first of two starting processes wins; both use its secret
        except FileExistsError:
            return webhook_secret(path.parent)
        return secret
    finally:
        side.unlink(missing_ok=True)
