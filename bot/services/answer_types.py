"""What an answer is: shared by the answer service, the CLI, the console and the bot."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Citation:
    doc: str  # document title, e.g. 社会救助暂行办法
    article: str  # e.g. 第九条
    text: str  # the article text, trimmed for a chat message
    score: float


@dataclass
class Answer:
    question: str
    answer: str  # short plain-language answer, or the honest "no basis" sentence
    refused: bool
    citations: list[Citation] = field(default_factory=list)  # at most 3, shown to the user
    next_steps: str = ""  # what to do or whom to ask
    card_id: str | None = None  # the knowledge card that led the answer, if any
    # The ranked distinct (doc, article) list behind the answer (top_k), used by `lianhu eval`.
    ranked: list[tuple[str, str]] = field(default_factory=list)
    confidence: float = 0.0
    elapsed_ms: float = 0.0

    def to_json(self) -> dict:
        return {
            "answer": self.answer,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "next_steps": self.next_steps,
            "card_id": self.card_id,
            "elapsed_ms": round(self.elapsed_ms, 2),
        }
