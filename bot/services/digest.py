"""The weekly digest for coordinators: visits, coverage, problems, rates, who visited no one.

Weeks are ISO weeks in Asia/Shanghai; the default is the last complete week. Definitions:
- coverage = households visited in the week / households with an assigned volunteer;
- special_due / special_visited = special-group households (tags in [ledger] special_tags) and
  how many of them were visited this calendar month up to the week's end;
- resolution_rate = problems resolved (or solved on the spot) by the week's end / problems
  opened by then (办结率);
- on_time_rate = of the problems resolved in the week, the share resolved by their deadline;
- satisfaction_rate = 满意 + 基本满意 among all return visits up to the week's end;
- on_spot_rate (就地化解率) = problems_solved_on_spot / problems_new, both of the week;
- resolved_in_village_rate (不出村率) = resolved_in_village / resolved_in_week: of the problems
  resolved in the week (on the spot included), those that never reached the township;
- problems_overdue = open at the week's end and past their deadline.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.ledger import reports as reports_db
from bot.services import lifecycle
from bot.services.ledger_types import LEVEL_NAMES, LedgerError
from bot.services.masking import mask_personal
from bot.services.text_safety import clean_line

TELEGRAM_LIMIT = 4096
TEXT_KEYS = ("description", "village", "head_name")  # user text in oldest_overdue items
# weeks outside these years are typos; 0001-W01 and 9999-W52 used to overflow the date range
FIRST_YEAR, LAST_YEAR = 2000, 2100
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{1,2})")
# digest counts of distinct problems with an event of the lifecycle action in the week
COUNTED_ACTIONS = {
    "problems_solved_on_spot": "solve_on_spot",
    "problems_escalated": "escalate",
    "problems_resolved": "resolve",
}


@dataclass
class WeekFigures:
    week: str
    visits: int
    households_assigned: int
    households_visited: int
    coverage: float
    special_due: int
    special_visited: int
    problems_new: int
    problems_solved_on_spot: int
    problems_escalated: int
    problems_resolved: int
    problems_overdue: int
    resolution_rate: float
    on_time_rate: float
    satisfaction_rate: float
    resolved_in_week: int
    resolved_in_village: int
    on_spot_rate: float
    resolved_in_village_rate: float
    zero_visit_members: list[str] = field(default_factory=list)


@dataclass
class Digest:
    village: str | None
    this_week: WeekFigures
    previous_week: WeekFigures
    oldest_overdue: list[dict]

    def to_json(self) -> dict:
        out = asdict(self.this_week)
        out["village"] = self.village or "全乡镇"
        out["previous"] = {
            k: v for k, v in asdict(self.previous_week).items() if k != "zero_visit_members"
        }
        out["oldest_overdue"] = self.oldest_overdue
        return out


def parse_week(text: str | None, today: date) -> tuple[int, int]:
    """'2026-W47' → (2026, 47); None → the last complete ISO week before today."""
    if not text:
        last = today - timedelta(days=today.isoweekday())
        year, week, _ = last.isocalendar()
        return year, week
    match = _WEEK.fullmatch(text.strip().upper())
    try:
        if match is None or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
            raise ValueError(text)
        year, week = int(match.group(1)), int(match.group(2))
        date.fromisocalendar(year, week, 1)
        return year, week
    except ValueError as exc:
        raise LedgerError(
            f"周次请写成 2026-W47 这样的格式（{FIRST_YEAR}—{LAST_YEAR} 年），而不是“{text}”。"
        ) from exc


def week_bounds(year: int, week: int, tz: ZoneInfo) -> tuple[str, str, date]:
    monday = date.fromisocalendar(year, week, 1)
    start = datetime.combine(monday, time(0), tz)
    end = start + timedelta(days=7)
    utc = ZoneInfo("UTC")
    return start.astimezone(utc).isoformat(), end.astimezone(utc).isoformat(), monday


def week_figures(
    db, year: int, week: int, village: str | None, tz: ZoneInfo, special_tags: list[str]
) -> WeekFigures:
    start, end, monday = week_bounds(year, week, tz)
    c = reports_db.digest_counts(
        db, start, end, village, lifecycle.FINAL_STATUSES, COUNTED_ACTIONS, lifecycle.LEVELS[-1]
    )
    specials = [hid for hid, _ in reports_db.special_households(db, village, special_tags)]
    sunday = monday + timedelta(days=6)
    month_start = (
        datetime.combine(sunday.replace(day=1), time(0), tz).astimezone(ZoneInfo("UTC")).isoformat()
    )
    visited_special = reports_db.households_visited_between(db, specials, month_start, end)
    return WeekFigures(
        week=f"{year}-W{week:02d}",
        visits=c["visits"],
        households_assigned=c["households_assigned"],
        households_visited=c["households_visited"],
        coverage=_rate(c["households_visited"], c["households_assigned"]),
        special_due=len(specials),
        special_visited=len(visited_special),
        problems_new=c["problems_new"],
        problems_solved_on_spot=c["problems_solved_on_spot"],
        problems_escalated=c["problems_escalated"],
        problems_resolved=c["problems_resolved"],
        problems_overdue=c["problems_overdue"],
        resolution_rate=_rate(c["problems_done_to_date"], c["problems_opened_to_date"]),
        on_time_rate=_rate(c["resolved_on_time"], c["resolved_in_week"]),
        satisfaction_rate=_rate(c["satisfied_to_date"], c["followups_to_date"]),
        resolved_in_week=c["resolved_in_week"],
        resolved_in_village=c["resolved_in_village"],
        on_spot_rate=_rate(c["problems_solved_on_spot"], c["problems_new"]),
        resolved_in_village_rate=_rate(c["resolved_in_village"], c["resolved_in_week"]),
        zero_visit_members=reports_db.members_without_visits(db, start, end, village),
    )


def build_digest(
    db, week: str | None, village: str | None, tz: ZoneInfo, special_tags: list[str], today: date
) -> Digest:
    year, number = parse_week(week, today)
    monday = date.fromisocalendar(year, number, 1)
    prev_year, prev_week, _ = (monday - timedelta(days=7)).isocalendar()
    this = week_figures(db, year, number, village, tz, special_tags)
    previous = week_figures(db, prev_year, prev_week, village, tz, special_tags)
    _, end, _ = week_bounds(year, number, tz)
    overdue = reports_db.oldest_overdue(db, end, village, lifecycle.OPEN_STATUSES)
    overdue = [_shareable(item) for item in overdue]
    return Digest(village, this, previous, overdue)


def _shareable(item: dict) -> dict:
    """A digest is forwarded, printed and exported to 汇总: its free text shows no phone or ID
    number, whoever reads it, and stays on one line."""
    shown = {key: clean_line(mask_personal(item[key])) for key in TEXT_KEYS if item.get(key)}
    return {**item, **shown}


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _trend(now: float, before: float, percent: bool = False) -> str:
    diff = now - before
    if abs(diff) < 1e-9:
        return "持平"
    sign = "↑" if diff > 0 else "↓"
    return f"{sign}{abs(diff) * 100:.1f}个百分点" if percent else f"{sign}{abs(diff):g}"


def digest_text(d: Digest, tz: ZoneInfo) -> str:
    """The digest as one chat message (≤ 4,096 characters), in Chinese."""
    w, p = d.this_week, d.previous_week
    scope = d.village or "全乡镇"
    lines = [
        f"【{scope}民情周报】{w.week}",
        f"走访 {w.visits} 次（上周 {p.visits}，{_trend(w.visits, p.visits)}）",
        f"覆盖农户 {w.households_visited}/{w.households_assigned} 户，覆盖率 {_pct(w.coverage)}"
        f"（{_trend(w.coverage, p.coverage, True)}）",
        f"重点户本月已走访 {w.special_visited}/{w.special_due} 户",
        f"新问题 {w.problems_new} 个：当场解决 {w.problems_solved_on_spot}，上报 {w.problems_escalated}，"
        f"本周办结 {w.problems_resolved}，超期未办 {w.problems_overdue}",
        f"办结率 {_pct(w.resolution_rate)}，按期办结率 {_pct(w.on_time_rate)}，满意率 {_pct(w.satisfaction_rate)}",
        f"就地化解率 {_pct(w.on_spot_rate)}（当场解决 {w.problems_solved_on_spot}/新问题 {w.problems_new}，"
        f"上周 {_pct(p.on_spot_rate)}）",
        f"不出村率 {_pct(w.resolved_in_village_rate)}（本周办结 {w.resolved_in_week} 个，"
        f"其中未上报乡镇 {w.resolved_in_village} 个，上周 {_pct(p.resolved_in_village_rate)}）",
    ]
    if d.oldest_overdue:
        lines.append("最久的超期问题：")
        for item in d.oldest_overdue:
            deadline = datetime.fromisoformat(item["deadline"]).astimezone(tz).strftime("%m-%d")
            lines.append(
                f"  #{item['id']} {item['village']}{item['head_name']}家：{item['description'][:30]}"
                f"（{LEVEL_NAMES[item['level']]}，期限{deadline}）"
            )
    if w.zero_visit_members:
        names = "、".join(w.zero_visit_members)
        lines.append(f"本周未走访的联户党员（{len(w.zero_visit_members)}人）：{names}")
    else:
        lines.append("本周每位联户党员都有走访。")
    text = "\n".join(lines)
    if len(text) > TELEGRAM_LIMIT:
        text = text[: TELEGRAM_LIMIT - 20] + "\n……（名单过长，详见导出表）"
    return text
