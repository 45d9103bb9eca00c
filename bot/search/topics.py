"""Which card topics a question names (低保, 五保, 宅基地 …), from knowledge/topics.tsv.

Card matching is lexical, and neighbouring cards of different topics share their procedural
words (申请, 去哪办, 带啥材料): the topic the question names breaks such ties.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.normalize import normalize


@dataclass(frozen=True)
class TopicWords:
    words: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (topic, words naming it)

    @classmethod
    def load(cls, path: Path) -> TopicWords:
        entries = []
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#") and "\t" in line:
                    topic, words = line.split("\t", 1)
                    entries.append((topic.strip(), tuple(normalize(w) for w in words.split())))
        return cls(tuple(entries))

    def named(self, norm: str) -> frozenset[str]:
        """The topics the normalized question names."""
        return frozenset(topic for topic, words in self.words if any(w in norm for w in words))
