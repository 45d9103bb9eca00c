"""The grammar of typed ledger commands, shared by every chat channel (Telegram, the console,
WeCom): problem and visit numbers, page numbers, the escalation target, invite arguments.

Numbers are read strictly: ASCII digits only (after full-width digits are folded), at most
nine of them. `str.isdigit()` accepts ² and ①, which `int()` then refuses, and twenty digits
overflow SQLite; both used to end a conversation with a traceback."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.services.ledger_types import ROLES, LedgerError

MAX_DIGITS = 9  # a billion problems is far beyond any township; more digits is a typo
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＃", "0123456789#")
_NUMBER = re.compile(rf"#?([0-9]{{1,{MAX_DIGITS}}})")
_SPACES = re.compile(r"[\s\u3000]+")
_DIGITS = re.compile(r"#?[0-9]+")
# a grid: 一组, 3组, 第二网格, 东片组 … (a word ending in 组, or 网格 after a numeral), so that a
# person named 赵网格 stays a name
_GRID = re.compile(r".+组|第?[0-9一二三四五六七八九十百]+网格")


class UsageError(LedgerError):
    """The arguments cannot be read; the handler answers with the command's usage line."""


def words(args: str | None) -> list[str]:
    """Arguments split at any whitespace, the ideographic space included."""
    return [w for w in _SPACES.split((args or "").strip()) if w]


def parse_number(token: str, prefixes: tuple[str, ...] = ()) -> int | None:
    """A record number as typed (12, #12, ＃１２, 户12 with prefixes=("户",)); None otherwise."""
    token = token.strip().translate(_FULL_WIDTH)
    for prefix in prefixes:
        token = token.removeprefix(prefix)
    match = _NUMBER.fullmatch(token)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def number_and_rest(args: str | None) -> tuple[int, str]:
    """`12 已帮助申请` → (12, "已帮助申请"); UsageError when the first word is not a number."""
    parts = words(args)
    number = parse_number(parts[0]) if parts else None
    if number is None:
        raise UsageError("编号要写数字")
    return number, _after_first_word(args)


def _after_first_word(args: str | None) -> str:
    pieces = _SPACES.split((args or "").strip(), maxsplit=1)
    return pieces[1].strip() if len(pieces) > 1 else ""


def optional_number_and_rest(args: str | None) -> tuple[int | None, str]:
    """`23 新的情况` → (23, "新的情况"); `新的情况` → (None, "新的情况"); a first word made of
    digits that is no valid number (0, twenty digits) is a UsageError, not text."""
    parts = words(args)
    if parts and _DIGITS.fullmatch(parts[0].translate(_FULL_WIDTH)):
        return number_and_rest(args)
    return None, (args or "").strip()


def page_number(args: str | None) -> int:
    """/我的 2 → 2; nothing → 1."""
    parts = words(args)
    if not parts:
        return 1
    number = parse_number(parts[0])
    if number is None or len(parts) > 1:
        raise UsageError("页码要写数字")
    return number


ESCALATION_TARGETS = {"村级": "village", "村": "village", "乡镇": "township", "乡": "township"}


def escalation(args: str | None) -> tuple[int, str, str]:
    """`/上报 12` → (12, "village", ""); `/上报 12 乡镇 说明` → (12, "township", "说明").

    The target level is the command's compare-and-set: sent twice, `/上报 12` cannot carry a
    problem past the village, because the second finds it already there."""
    number, rest = number_and_rest(args)
    head = words(rest)[0] if rest else ""
    target = ESCALATION_TARGETS.get(head.removeprefix("到").removesuffix("级")) or (
        ESCALATION_TARGETS.get(head)
    )
    if target is None:
        return number, "village", rest
    return number, target, _after_first_word(rest)


@dataclass(frozen=True)
class InviteRequest:
    role: str
    village: str = ""
    grid: str = ""
    name: str = ""


def invite_request(args: str | None) -> InviteRequest:
    """`/邀请 volunteer 东村 一组 张新党员`: role, then village, grid and name, each optional.

    A word ending in 村 is the village; the grid is a word like 一组 or 第二网格; what is left
    is the name. (A township coordinator must name the village; a village coordinator may
    leave it out.)"""
    parts = words(args) or ["volunteer"]
    role = parts[0]
    if role not in ROLES:
        raise UsageError(f"角色“{role}”不认识")
    village = grid = ""
    rest = []
    for word in parts[1:]:
        if not village and word.endswith("村"):
            village = word
        elif not grid and _GRID.fullmatch(word):
            grid = word
        else:
            rest.append(word)
    if len(rest) > 1:
        raise UsageError("名字只能写一个")
    return InviteRequest(role, village, grid, rest[0] if rest else "")
