"""Split a document into retrieval units.

Laws and regulations: one unit per article (第X条), with its chapter path as context; an
overlong article is split by paragraph and every piece keeps the article label. Documents
without articles: split by headings, then paragraphs packed up to a size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ARTICLE_LABEL = re.compile(r"^第[零〇一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
# The corpus format ends its header (issuing body, dates) with an HTML comment marker.
_METADATA_END = re.compile(r"<!--\s*INFO\s+END\s*-->")

MAX_UNIT_CHARS = 900  # longer articles are split by paragraph
SECTION_CHUNK_CHARS = 500  # packing size for documents without articles


@dataclass(frozen=True)
class Unit:
    article: str  # 第九条, or a section label for documents without articles
    chapter: str  # 第二章 最低生活保障 / 第一节 …
    text: str  # original text for display
    part: int = 0  # 0 for a whole article; 1, 2 … for pieces of an overlong one


def split_document(text: str) -> list[Unit]:
    parts = _METADATA_END.split(text, maxsplit=1)
    body = parts[1] if len(parts) == 2 else text
    paragraphs = _paragraphs(body)
    if any(ARTICLE_LABEL.match(p) for kind, p in paragraphs if kind == "text"):
        return _split_articles(paragraphs)
    return _split_sections(paragraphs)


def _paragraphs(body: str) -> list[tuple[str, str]]:
    """(kind, text) pairs: kind is 'h1'..'h6' for headings, 'text' for paragraphs."""
    out = []
    for raw in re.split(r"\n", body):
        line = raw.strip().replace("\u3000", " ")
        if not line:
            continue
        m = _HEADING.match(line)
        if m:
            out.append((f"h{len(m.group(1))}", m.group(2).strip()))
        else:
            out.append(("text", line))
    return out


def _split_articles(paragraphs: list[tuple[str, str]]) -> list[Unit]:
    units: list[Unit] = []
    chapter: dict[int, str] = {}
    current_label, current_chapter, current_paras = None, "", []

    def flush():
        if current_label:
            units.extend(_article_units(current_label, current_chapter, current_paras))

    for kind, text in paragraphs:
        if kind.startswith("h"):
            level = int(kind[1])
            if level == 1:
                continue  # the title
            chapter = {k: v for k, v in chapter.items() if k < level}
            chapter[level] = text
            continue
        m = ARTICLE_LABEL.match(text)
        if m:
            flush()
            current_label = m.group(0)
            current_chapter = " ".join(chapter[k] for k in sorted(chapter))
            current_paras = [text]
        elif current_label:
            current_paras.append(text)
    flush()
    return units


def _article_units(label: str, chapter: str, paras: list[str]) -> list[Unit]:
    whole = "\n".join(paras)
    if len(whole) <= MAX_UNIT_CHARS:
        return [Unit(article=label, chapter=chapter, text=whole)]
    pieces, buf = [], []
    for para in paras:
        if buf and sum(len(p) for p in buf) + len(para) > MAX_UNIT_CHARS:
            pieces.append("\n".join(buf))
            buf = []
        buf.append(para)
    if buf:
        pieces.append("\n".join(buf))
    return [
        Unit(
            article=label,
            chapter=chapter,
            text=piece if i == 0 else f"{label}（续）{piece}",
            part=i + 1,
        )
        for i, piece in enumerate(pieces)
    ]


def _split_sections(paragraphs: list[tuple[str, str]]) -> list[Unit]:
    units: list[Unit] = []
    heading, buf, count = "", [], 0

    def flush():
        nonlocal buf, count
        if buf:
            count += 1
            label = heading or f"第{count}段"
            units.append(Unit(article=label, chapter=heading, text="\n".join(buf), part=count))
            buf = []

    for kind, text in paragraphs:
        if kind.startswith("h"):
            if kind == "h1":
                continue
            flush()
            heading = text
            continue
        if buf and sum(len(p) for p in buf) + len(text) > SECTION_CHUNK_CHARS:
            flush()
        buf.append(text)
    flush()
    return units
