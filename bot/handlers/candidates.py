"""Several households fit what was typed: list them, numbered by household id with their house
number, at most a screenful, and say how to pick one."""

from __future__ import annotations

from bot import texts
from bot.services.ledger_types import Ambiguous

SCREENFUL = 10


def candidate_text(exc: Ambiguous, how_to_pick: str) -> str:
    shown = exc.candidates[:SCREENFUL]
    lines = [texts.CANDIDATES.format(found=str(exc))]
    lines += [texts.CANDIDATE_LINE.format(id=h.id, label=h.label) for h in shown]
    hidden = len(exc.candidates) - len(shown)
    if hidden:
        lines.append(texts.CANDIDATES_MORE.format(n=hidden))
    lines.append(how_to_pick.format(id=shown[0].id))
    return "\n".join(lines)
