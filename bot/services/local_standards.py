"""Local figures (低保标准, 特困供养标准, 医保缴费…) from knowledge/local_standards.toml.

Laws leave these amounts to each county or city and each year. An answer quotes one only
when the member's region is known and has it; otherwise it says the figure is set locally.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingest.normalize import normalize

FILE_NAME = "local_standards.toml"
ASK_CIVIL_AFFAIRS = "乡镇民政办"
ASK_MEDICAL_INSURANCE = "乡镇医保站或县医疗保障局"


@dataclass(frozen=True)
class Standard:
    region: str
    item: str
    keywords: tuple[str, ...]
    value: str
    unit: str
    year: int
    source: str
    date: str


def load_standards(knowledge_dir: Path) -> list[Standard]:
    path = knowledge_dir / FILE_NAME
    return list(_load(str(path), path.stat().st_mtime if path.is_file() else 0.0))


@lru_cache(maxsize=4)
def _load(path: str, _mtime: float) -> tuple[Standard, ...]:
    if not Path(path).is_file():
        return ()
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return tuple(
        Standard(
            region=row["region"],
            item=row["item"],
            keywords=tuple(row.get("keywords", ())),
            value=str(row["value"]),
            unit=row.get("unit", ""),
            year=int(row["year"]),
            source=row["source"],
            date=str(row["date"]),
        )
        for row in data.get("standard", [])
    )


def lookup(knowledge_dir: Path, question: str, region: str | None) -> list[Standard]:
    """Standards of the region whose keywords appear in the question, newest year first."""
    if not region:
        return []
    norm = normalize(question)
    found = [
        s
        for s in load_standards(knowledge_dir)
        if (s.region in region or region in s.region) and any(k in norm for k in s.keywords)
    ]
    return sorted(found, key=lambda s: -s.year)


def local_note(knowledge_dir: Path, question: str, region: str | None) -> str | None:
    """One line for the answer: the local figure with its source, or where to ask for it.
    None when the question is not about any locally set figure."""
    norm = normalize(question)
    items = [s for s in load_standards(knowledge_dir) if any(k in norm for k in s.keywords)]
    asks_amount = any(w in norm for w in ("多少", "标准", "几块", "交多少", "钱"))
    if not items or not asks_amount:
        return None
    found = lookup(knowledge_dir, question, region)
    if found:
        s = found[0]
        return f"{s.region}{s.year}年{s.item}：{s.value}（来源：{s.source}，{s.date}）。"
    office = (
        ASK_MEDICAL_INSURANCE if any("医保" in k for k in items[0].keywords) else ASK_CIVIL_AFFAIRS
    )
    return f"具体金额由各县（市）每年公布，各地不同，请问{office}。"
