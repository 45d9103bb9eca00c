"""The audit trail: one row per ledger change, with the record before and after."""

from __future__ import annotations

import json
from typing import Any

from bot.ledger.db import now_utc
from bot.ledger.rows import all_rows


def audit(
    db,
    actor_id: int | None,
    entity: str,
    entity_id: int,
    action: str,
    before: Any = None,
    after: Any = None,
    at: str | None = None,
) -> None:
    def dump(value):
        if value is None:
            return ""
        return json.dumps(
            value if isinstance(value, dict) else value.__dict__, ensure_ascii=False, default=str
        )

    db.execute(
        "INSERT INTO audit(at, actor_id, entity, entity_id, action, before, after) "
        "VALUES (?,?,?,?,?,?,?)",
        [at or now_utc(), actor_id, entity, entity_id, action, dump(before), dump(after)],
    )


def audit_rows(db, entity: str, entity_id: int) -> list[dict]:
    return all_rows(
        db, "SELECT * FROM audit WHERE entity=? AND entity_id=? ORDER BY id", [entity, entity_id]
    )
