"""Where a chat user is, for local figures: their village (from the roster), then the township
and county the ledger serves ([ledger] township, county).

Local standards are published by county, while a member record holds a village; the region
handed to the answerer is the whole chain, most specific first ("东山村 青石镇 示例县"), so a
standard for any level of it is found."""

from __future__ import annotations

from bot.config import Settings
from bot.ledger.records import Member


def region_chain(settings: Settings, village: str = "") -> str | None:
    parts = [village, settings.ledger.township, settings.ledger.county]
    seen = [p for i, p in enumerate(parts) if p and p not in parts[:i]]
    return " ".join(seen) or None


def member_region(
    settings: Settings, member: Member | None, override: str | None = None
) -> str | None:
    """The region for a question: `lianhu chat --region R` first, else the member's chain."""
    if override:
        return override
    return region_chain(settings, member.village if member else "")
