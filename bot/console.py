"""Local console chat: the same answer service as the bot, one message per line.

Reads from a terminal interactively or from a pipe (one message a line) and stops at the end
of input. With an empty data directory it first indexes the bundled knowledge.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from bot.config import Settings
from bot.services.answer import Answerer, ensure_index, format_answer

WELCOME = "联户助手（本机对话）。直接打字问政策，比如“王大爷儿子不管他，能吃低保不”。输入 /帮助 看用法，Ctrl+D 退出。"
HELP = (
    "用法：\n"
    "  直接打字：问政策，回答附文件和条款\n"
    "  /问 问题：同上\n"
    "  /帮助：看这段说明\n"
    "  /退出：结束对话"
)
INDEXING = "第一次使用，正在建立政策知识索引，请稍等……"
UNKNOWN_COMMAND = "没有这个命令。输入 /帮助 看能用的命令，或直接打字问政策。"
ASK_PREFIXES = ("/ask", "/问")
HELP_COMMANDS = {"/help", "/帮助", "/start"}
QUIT_COMMANDS = {"/quit", "/exit", "/退出"}


def reply_to(text: str, answerer: Answerer, region: str | None = None) -> str | None:
    """The console's reply to one message; None means the user asked to stop."""
    text = text.strip().replace("／", "/", 1) if text.strip().startswith("／") else text.strip()
    if not text:
        return ""
    command, _, rest = text.partition(" ")
    command = command.split("@", 1)[0].lower()
    if command in QUIT_COMMANDS:
        return None
    if command in HELP_COMMANDS:
        return HELP
    if command in ASK_PREFIXES:
        return format_answer(answerer.answer(rest, region=region))
    if text.startswith("/"):
        return UNKNOWN_COMMAND
    return format_answer(answerer.answer(text, region=region))


def run_console(
    settings: Settings,
    lines: Iterable[str] | None = None,
    out: TextIO = sys.stdout,
    region: str | None = None,
) -> None:
    interactive = lines is None and sys.stdin.isatty()
    if _needs_index(settings):
        print(INDEXING, file=out, flush=True)
        ensure_index(settings)
    answerer = Answerer.from_settings(settings)
    if interactive:
        print(WELCOME, file=out)
    source = lines if lines is not None else _stdin_lines(interactive)
    for line in source:
        reply = reply_to(line, answerer, region)
        if reply is None:
            break
        if reply:
            print(reply, file=out, flush=True)
            if interactive:
                print(file=out)


def _needs_index(settings: Settings) -> bool:
    from bot.search.keyword import KeywordIndex

    return not KeywordIndex.exists(settings.index_dir)


def _stdin_lines(interactive: bool):
    while True:
        try:
            line = input("> ") if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and line == "":
            return
        yield line
