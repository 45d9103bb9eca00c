"""User text made safe to store, show and export: invisible and control characters out.

One control character stored in the ledger (a vertical tab pasted from a spreadsheet, a NUL
from a broken keyboard app) used to break every Excel export of its area, because XML cannot
hold it. So text is cleaned where it enters (chat messages, roster import, the services) and
again where it leaves (the export), in case an older row still holds one.

The text itself is otherwise kept as typed: full-width punctuation (，。) is normal Chinese, so
there is no blanket NFKC here; `digit_value` reads the digits of any script for the number
detection in `masking.py`, which replaces only the numbers it finds.
"""

from __future__ import annotations

import re
import unicodedata

# Characters removed everywhere. Kept: \n and \t. Removed beyond the C0/C1 controls: lone
# surrogates (SQLite and UTF-8 refuse them), U+FFFE/U+FFFF (not allowed in XML), bidirectional
# overrides and isolates (they make a name display reversed), zero-width space, word joiner and
# the byte-order mark (they make "张\u200b三" miss 张三 when a household is looked up).
_REMOVED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\ud800-\udfff\ufffe\uffff"
    "\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]"
)
# Line breaks of every kind become \n: a lone \r would start a new line in Excel but not here.
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """Free text (a visit note, a problem) without control characters; \\n and \\t are kept."""
    if not text:
        return ""
    return _REMOVED.sub("", _LINE_BREAKS.sub("\n", text))


def clean_line(text: str | None) -> str:
    """A one-line field (a name, a house number, a village): cleaned, whitespace runs as one
    space, trimmed."""
    return _SPACES.sub(" ", clean_text(text)).strip()


def has_control_characters(text: str) -> bool:
    return bool(_REMOVED.search(text or "")) or "\r" in (text or "")


def digit_value(ch: str) -> str | None:
    """'7' for a seven in any script (７, ٧, ७, 𝟕, ⑦, ⁷), None for anything else."""
    if "0" <= ch <= "9":
        return ch
    if ch.isascii():
        return None
    value = unicodedata.digit(ch, None)
    return None if value is None else str(value)


def is_number_separator(ch: str) -> bool:
    """Spaces and dashes people put inside long numbers (110105 1949…, 138-1234-5678)."""
    return ch in " \t\u00a0\u3000" or unicodedata.category(ch) in ("Zs", "Pd")
