"""The one-line visit log: `张三 腿疼，需要轮椅 #问题 申请残疾人证 宣讲:低保,医保 昨天 电话`.

First the household (head's name, house number, or 户12 for its id), then free text. Optional
parts anywhere after it: `#问题 …` / `问题:…` opens a problem (to the end of the line or the
next part), `宣讲:低保,医保` lists policies explained, a date (今天/昨天/前天, 11-20, 11月20日,
2026-11-20) and a method (电话, 线上/微信/视频; default 入户).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.services.ledger_types import LedgerError

_PROBLEM = re.compile(r"(?:#\s*(?:问题|诉求)\s*[:：]?|(?:问题|诉求)\s*[:：])\s*")
_POLICIES = re.compile(r"宣讲\s*[:：]\s*([^\s#]+)")
_DATE_WORDS = {"今天": 0, "昨天": 1, "前天": 2}
_DATE = re.compile(
    r"(?<![\d])(?:(?P<y>20\d\d)[-/.年])?(?P<m>1[0-2]|0?[1-9])[-/.月](?P<d>3[01]|[12]\d|0?[1-9])日?(?![\d])"
)
# anything shaped like a date (2099-13-45, 13月45日): refused when it is not a real one, rather
# than kept as text while the visit is dated today
_DATE_SHAPED = re.compile(
    r"(?:\d{4}[-/.年])\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}[-/月]\d{1,2}日?|\d{1,2}月\d{1,2}日"
)
_METHODS = {
    "电话": "电话",
    "打电话": "电话",
    "线上": "线上",
    "微信": "线上",
    "视频": "线上",
    "入户": "入户",
}


@dataclass
class ParsedVisit:
    household: str
    situation: str = ""
    problem: str = ""
    policies: list[str] = field(default_factory=list)
    visit_date: date | None = None
    method: str = "入户"


class ParseError(LedgerError):
    """The line cannot be read; the message says what to type instead."""


USAGE = "请这样写：/走访 户主姓名 情况，比如“/走访 张三 腿疼，需要轮椅 #问题 申请残疾人证”。"


def parse_visit(text: str, today: date) -> ParsedVisit:
    text = (text or "").replace("\u3000", " ").strip()
    if not text:
        raise ParseError(USAGE)
    head, _, rest = text.partition(" ")
    household = head.strip().removesuffix("家") if len(head.strip()) > 2 else head.strip()
    if not household or household.startswith(("#", "问题", "宣讲")):
        raise ParseError(USAGE)
    parsed = ParsedVisit(household=household)

    problem_match = _PROBLEM.search(rest)
    if problem_match:
        parsed.problem = rest[problem_match.end() :].strip()
        rest = rest[: problem_match.start()]
    for source in (rest, parsed.problem):
        m = _POLICIES.search(source)
        if m:
            parsed.policies = [p for p in re.split(r"[,，、;；]", m.group(1)) if p]
    rest = _POLICIES.sub(" ", rest)
    parsed.problem = _POLICIES.sub(" ", parsed.problem).strip()

    words = rest.split()
    kept = []
    for word in words:
        if word in _DATE_WORDS and parsed.visit_date is None:
            parsed.visit_date = today - timedelta(days=_DATE_WORDS[word])
        elif word in _METHODS:
            parsed.method = _METHODS[word]
        elif _DATE.fullmatch(word) and parsed.visit_date is None:
            parsed.visit_date = _to_date(_DATE.fullmatch(word), today)
        elif _DATE_SHAPED.fullmatch(word):
            raise ParseError(f"日期 {word} 不存在，请写成 11-20、2026-11-20 或 昨天。")
        else:
            kept.append(word)
    parsed.situation = " ".join(kept).strip()
    if parsed.visit_date and parsed.visit_date > today:
        raise ParseError(
            f"走访日期 {parsed.visit_date:%m-%d} 还没到，请写今天或以前的日期，比如“昨天”或“11-20”。"
        )
    return parsed


def _to_date(m: re.Match, today: date) -> date:
    year = int(m.group("y")) if m.group("y") else today.year
    try:
        value = date(year, int(m.group("m")), int(m.group("d")))
    except ValueError as exc:
        raise ParseError(f"日期 {m.group(0)} 不存在，请写成 11-20 或 昨天。") from exc
    return value
