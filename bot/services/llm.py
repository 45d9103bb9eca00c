"""Optional rewriting of the short answer by an OpenAI-compatible chat model (extra `llm`).

The model sees only the question, the draft and the cited articles. Its text is accepted only
if every document it names (《…》) is cited and every article it names (第九条, 第9条), read with
the document named before it, is one of the citations; otherwise the extractive draft stays.
Any failure (not installed, server down, timeout) keeps the draft and logs one line.
"""

from __future__ import annotations

import logging
import re

from bot.config import Settings
from bot.services.answer_types import Citation

log = logging.getLogger(__name__)

# 《title》 or 第X条 (Chinese or Arabic numerals, with an optional 之一), in the order written
_REFERENCE = re.compile(
    r"《(?P<title>[^》]{1,60})》|第\s*(?P<num>[零〇一二两三四五六七八九十百千0-9０-９]+)\s*条(?P<sub>之[一二三四五六七八九十]+)?"
)
_DIGITS = "零一二三四五六七八九"

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
    """The model's text if it is non-empty and names nothing outside the citations."""
    reply = (reply or "").strip()
    if not reply or not _names_only_cited(reply, citations):
        return draft
    return reply[:300]


def _names_only_cited(reply: str, citations: list[Citation]) -> bool:
    """Every 《title》 is a cited document; every article belongs, with the document named last
    before it (or any cited document when none was named yet), to the citations."""
    from bot.search.retriever import title_key

    cited = {(title_key(c.doc), c.article) for c in citations}
    cited_docs = {doc for doc, _ in cited}
    current: str | None = None
    for match in _REFERENCE.finditer(reply):
        if match["title"] is not None:
            current = title_key(match["title"])
            if current not in cited_docs:
                return False
            continue
        article = f"第{_chinese_number(match['num'])}条{match['sub'] or ''}"
        docs = [current] if current else cited_docs
        if not any((doc, article) in cited for doc in docs):
            return False
    return True


def _chinese_number(text: str) -> str:
    """第9条 and 第九条 name the same article: Arabic (also full-width) numerals → Chinese."""
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not text.isdigit():
        return text.replace("两", "二")
    n = int(text)
    if n == 0 or n >= 10000:
        return text
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            if zero and out:
                out += "零"
            out += _DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    # 十一 … 十九 are written without a leading 一
    return out[1:] if out.startswith("一十") else out


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
