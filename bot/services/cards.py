"""Policy cards: plain-language answers written by us, each backed by cited articles.

A card is a Markdown file under knowledge/cards/ (subfolders allowed):

    ---
    id: dibao-who-qualifies            # unique, [a-z0-9-]
    topic: 低保                         # one of the topics in knowledge/README.md
    questions:                          # how volunteers ask it; the first is the main one
      - 家里穷，能吃低保不
      - 低保要啥条件
    citations:                          # "title 第X条"; title exactly as the document's # heading
      - 社会救助暂行办法 第九条
    external:                           # optional: documents outside the corpus, named precisely
      - 《最低生活保障审核确认办法》（民政部，2021）
    ---
    The short answer, at most about 120 characters, that can be read aloud.

    ## 怎么办
    Where to go, what to bring, time limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)
_CITATION = re.compile(
    r"^\s*《?(?P<doc>[^《》\s]+?)》?\s*(?P<article>第[零一二三四五六七八九十百千]+条)\s*$"
)
_NEXT_STEPS_HEADING = re.compile(r"^##\s*怎么办\s*$", re.M)


class CardError(ValueError):
    """A card file that does not follow the format; the message names the file."""


@dataclass(frozen=True)
class Card:
    id: str
    topic: str
    questions: tuple[str, ...]
    citations: tuple[tuple[str, str], ...]  # (doc title, 第X条)
    answer: str
    next_steps: str
    external: tuple[str, ...] = ()
    path: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def search_text(self) -> str:
        """What retrieval matches a question against: the phrasings, topic and answer."""
        return "\n".join([*self.questions, self.topic, self.answer])


def parse_card(text: str, path: str = "") -> Card:
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise CardError(f"{path}: 缺少 --- 包围的头部信息")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CardError(f"{path}: 头部信息不是合法的 YAML：{exc}") from exc
    body = match.group(2).strip()
    parts = _NEXT_STEPS_HEADING.split(body, maxsplit=1)
    answer = parts[0].strip()
    next_steps = parts[1].strip() if len(parts) > 1 else ""
    for key in ("id", "topic", "questions", "citations"):
        if not meta.get(key):
            raise CardError(f"{path}: 缺少 {key}")
    if not answer:
        raise CardError(f"{path}: 缺少简短回答")
    citations = []
    for raw in meta["citations"]:
        m = _CITATION.match(str(raw))
        if not m:
            raise CardError(f"{path}: 引用格式应为“文件标题 第X条”：{raw}")
        citations.append((m.group("doc"), m.group("article")))
    return Card(
        id=str(meta["id"]),
        topic=str(meta["topic"]),
        questions=tuple(str(q).strip() for q in meta["questions"]),
        citations=tuple(citations),
        answer=answer,
        next_steps=next_steps,
        external=tuple(str(x) for x in meta.get("external") or ()),
        path=path,
    )


def load_cards(knowledge_dir: Path) -> list[Card]:
    """All cards under knowledge_dir/cards, sorted by path; duplicate ids are an error."""
    cards: list[Card] = []
    seen: dict[str, str] = {}
    for file in sorted((knowledge_dir / "cards").rglob("*.md")):
        card = parse_card(file.read_text(encoding="utf-8"), str(file))
        if card.id in seen:
            raise CardError(f"{file}: 卡片编号 {card.id} 与 {seen[card.id]} 重复")
        seen[card.id] = str(file)
        cards.append(card)
    return cards
