"""FSM storage in a small SQLite file, so a half-filled /走访 form survives a bot restart."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey


class SQLiteStorage(BaseStorage):
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS fsm (key TEXT PRIMARY KEY, state TEXT, data TEXT NOT NULL DEFAULT '{}')"
        )

    @staticmethod
    def _key(key: StorageKey) -> str:
        return f"{key.bot_id}:{key.chat_id}:{key.user_id}:{key.thread_id or 0}:{key.destiny}"

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        self.db.execute(
            "INSERT INTO fsm(key, state) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET state=excluded.state",
            (self._key(key), value),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        row = self.db.execute("SELECT state FROM fsm WHERE key=?", (self._key(key),)).fetchone()
        return row[0] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO fsm(key, data) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET data=excluded.data",
            (self._key(key), json.dumps(dict(data), ensure_ascii=False)),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = self.db.execute("SELECT data FROM fsm WHERE key=?", (self._key(key),)).fetchone()
        return json.loads(row[0]) if row else {}

    async def close(self) -> None:
        self.db.close()
