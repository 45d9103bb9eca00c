"""Text normalization applied to documents and questions alike before indexing and search.

Traditional characters become Simplified (questions arrive in both) and full-width letters,
digits and spaces become half-width. The original text is kept separately for display.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[ \t\u3000\xa0]+")


@lru_cache(maxsize=1)
def _converter():
    import opencc  # opencc-python-reimplemented: pure Python, ships its dictionaries

    return opencc.OpenCC("t2s")


def to_half_width(text: str) -> str:
    """Full-width ASCII (Ａ１／) and the ideographic space become half-width; CJK is untouched."""
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def normalize(text: str) -> str:
    """Simplified, half-width, lower-case text with runs of spaces folded."""
    text = unicodedata.normalize("NFC", text)
    text = to_half_width(text)
    text = _converter().convert(text)
    return _SPACES.sub(" ", text).lower().strip()
