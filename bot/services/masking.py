"""Personal data in free text: ID numbers are masked before storage; phone numbers are masked in
anything shown or exported to roles that may not see them.

Numbers are found however they are typed: full-width or other-script digits (１１０１０５…),
spaces or dashes inside (110105 19491001 0011, 138-1234-5678), a +86 in front. Only the number
is replaced (by its masked ASCII form); the text around it stays as typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.services.text_safety import digit_value, is_number_separator

MAX_SEPARATORS = 3  # "138 - 1234" still reads as one number; more than that is two numbers
ID_18 = re.compile(r"[1-9]\d{16}[\dX]")
# the old 15-digit cards: yymmdd after the region code, so a date and a phone run together
# ("2024 13812345678") are not taken for one
ID_15 = re.compile(r"[1-9]\d{5}\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
MOBILE = re.compile(r"(?:86)?1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}\d{7,8}")  # only when written in parts: 0371-6666 8888
# Digits that are not decimal digits but still read as one (² ① ⑴ ⒈ ❶): \d finds the rest
# (ASCII, full-width, Arabic-Indic, Devanagari, 𝟏…). Found by regex so that a long export does
# not walk every character in Python.
_OTHER_DIGITS = "".join(
    chr(c)
    for c in range(0x80, 0x10000)
    if unicodedata.category(chr(c)) == "No" and unicodedata.digit(chr(c), None) is not None
)
_DIGIT_RUN = re.compile(rf"[\d{re.escape(_OTHER_DIGITS)}]+(?:[XxＸｘ](?![A-Za-z0-9]))?")


@dataclass
class _Group:
    start: int
    end: int
    digits: str  # ASCII digits, with a final X for an ID's check character


def mask_ids(text: str) -> tuple[str, int]:
    """Text with every ID number kept only as its region code and last four, and the count."""
    return _mask(text or "", ids=True, phones=False)


def mask_phones(text: str) -> str:
    """Text with every phone number kept only as its first three and last four digits."""
    return _mask(text or "", ids=False, phones=True)[0]


def mask_personal(text: str, show_phones: bool = False) -> str:
    """What a viewer may read of free text: ID numbers always masked, phones unless allowed."""
    return _mask(text or "", ids=True, phones=not show_phones)[0]


def mask_phone_field(phone: str) -> str:
    phone = (phone or "").strip()
    if len(phone) >= 7:
        return (
            phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
            if len(phone) > 7
            else phone[:3] + "****"
        )
    return "*" * len(phone)


def _mask(text: str, ids: bool, phones: bool) -> tuple[str, int]:
    replacements: list[tuple[int, int, str]] = []
    found_ids = 0
    for chain in _chains(_groups(text), text):
        i = 0
        while i < len(chain):
            match = _longest_number(chain, i, ids, phones)
            if match is None:
                i += 1
                continue
            j, masked, is_id = match
            replacements.append((chain[i].start, chain[j].end, masked))
            found_ids += is_id
            i = j + 1
    for start, end, masked in reversed(replacements):
        text = text[:start] + masked + text[end:]
    return text, found_ids


def _groups(text: str) -> list[_Group]:
    """Maximal runs of digits (of any script), an ID's final X included."""
    return [
        _Group(m.start(), m.end(), "".join(digit_value(c) or "X" for c in m.group()))
        for m in _DIGIT_RUN.finditer(text)
    ]


def _chains(groups: list[_Group], text: str) -> list[list[_Group]]:
    """Groups joined by a few spaces or dashes, which may together form one number."""
    chains: list[list[_Group]] = []
    for group in groups:
        if chains and not chains[-1][-1].digits.endswith("X"):
            gap = text[chains[-1][-1].end : group.start]
            if 0 < len(gap) <= MAX_SEPARATORS and all(is_number_separator(c) for c in gap):
                chains[-1].append(group)
                continue
        chains.append([group])
    return chains


def _longest_number(
    chain: list[_Group], i: int, ids: bool, phones: bool
) -> tuple[int, str, bool] | None:
    """The longest run of whole groups from i that is an ID or phone number, masked."""
    best = None
    digits = ""
    for j in range(i, len(chain)):
        digits += chain[j].digits
        if len(digits) > 18:
            break
        masked = _masked_number(digits, multipart=j > i, ids=ids, phones=phones)
        if masked is not None:
            best = (j, *masked)
    return best


def _masked_number(
    digits: str, multipart: bool, ids: bool, phones: bool
) -> tuple[str, bool] | None:
    if ID_18.fullmatch(digits):
        return (f"{digits[:6]}********{digits[-4:]}", True) if ids else None
    if ID_15.fullmatch(digits):
        return (f"{digits[:6]}*****{digits[-4:]}", True) if ids else None
    if not phones:
        return None
    if MOBILE.fullmatch(digits):
        prefix, mobile = digits[:-11], digits[-11:]
        return (f"{prefix}{' ' if prefix else ''}{mobile[:3]}****{mobile[-4:]}", False)
    if multipart and LANDLINE.fullmatch(digits):
        area = 3 if digits[1] in "12" else 4  # 010, 021…; else 0371, 0755…
        return (f"{digits[:area]}-****{digits[-4:]}", False)
    return None
