"""Optional rewriting of the short answer by an OpenAI-compatible chat model (extra `llm`).

The model sees only the question, the draft and the cited articles. Its text is accepted only
if every article it names (第X条) is one of the citations; otherwise the extractive draft stays.
Any failure (not installed, server down, timeout) keeps the draft and logs one line.
"""

from __future__ import annotations

import logging
import re

from bot.config import Settings
from bot.services.answer_types import Citation

log = logging.getLogger(__name__)

_ARTICLE = re.compile(r"第[零〇一二三四五六七八九十百千]+条")

PROMPT = (
    "你是村里联户党员的政策助手。只根据下面的条文，用两三句大白话回答问题，"
    "不超过120字，不要编造条文，不要提到没有给出的条款。\n\n问题：{question}\n\n条文：\n{articles}\n\n"
    "初稿：{draft}\n\n大白话回答："
)


class Rewriter:
    def __init__(self, chat):
        self.chat = chat

    def rewrite(self, question: str, citations: list[Citation], draft: str) -> str:
        articles = "\n".join(f"《{c.doc}》{c.article}：{c.text}" for c in citations)
        try:
            reply = self.chat(PROMPT.format(question=question, articles=articles, draft=draft))
        except Exception as exc:  # the draft is always a valid answer
            log.warning("LLM 改写失败，使用原文摘录：%s", exc)
            return draft
        return accept_rewrite(reply, citations, draft)


def accept_rewrite(reply: str, citations: list[Citation], draft: str) -> str:
    """The model's text if it is non-empty and names no article outside the citations."""
    reply = (reply or "").strip()
    allowed = {c.article for c in citations}
    if not reply or any(a not in allowed for a in _ARTICLE.findall(reply)):
        return draft
    return reply[:300]


def make_rewriter(settings: Settings) -> Rewriter | None:
    cfg = settings.llm
    if not cfg.enabled:
        return None
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        log.warning("已开启 [llm]，但未安装：pip install -e '.[llm]'；改用原文摘录")
        return None
    model = ChatOpenAI(
        base_url=cfg.base_url or None,
        model=cfg.model,
        api_key=cfg.api_key.get_secret_value() or "none",
        temperature=cfg.temperature,
        timeout=cfg.timeout_s,
        max_retries=0,
    )
    return Rewriter(lambda prompt: model.invoke(prompt).content)
