"""The console runs the bot's own flows from piped lines and stops at the end of input."""

from __future__ import annotations

import io
import subprocess
import sys

from bot.config import load_settings
from bot.console import run_console
from bot.services.ledger_service import LedgerService


def test_console_runs_the_same_flows_as_the_bot(tmp_path):
    settings = load_settings(tmp_path)
    ledger = LedgerService.open(settings)
    volunteer = ledger.add_member("刘党员", "volunteer", "东村", "一组")
    ledger.add_household("东村", "张三", "一组", "12号", 3, "", ("低保户",), volunteer)
    ledger.close_db()
    out = io.StringIO()
    lines = [
        "家里穷，能吃低保不",
        "/走访 张三 腿疼 #问题 申请轮椅",
        "按2",
        "/待走访",
        "/没有的命令",
    ]
    run_console(settings, lines=lines, out=out, as_name="刘党员")
    text = out.getvalue()
    assert "第一次使用" in text  # the bundled knowledge was indexed first
    assert "《社会救助暂行办法》第九条" in text
    assert "已记走访：东村张三家" in text and "[1] 当场解决  [2] 上报村级" in text
    assert "已上报村级" in text  # 按2 pressed the button
    assert "本月重点户都走访过了" in text
    assert "没有这个命令" in text


def test_chat_reads_a_pipe_and_exits_at_end_of_input(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--data-dir", str(tmp_path)],
        input="低保怎么申请\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 0 == result.returncode, result.stderr
    assert "低保" in result.stdout and "依据" in result.stdout
