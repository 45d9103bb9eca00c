"""Item 18 of issue #10: a wrong setting stops with one Chinese line naming the file and the key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture
def config(tmp_path, monkeypatch):
    """Write a config file and point LIANHU_CONFIG at it; no other LIANHU_* variables."""
    for name in list(os.environ):
        if name.startswith("LIANHU_"):
            monkeypatch.delenv(name)
    path = tmp_path / "my.toml"

    def write(text: str):
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("LIANHU_CONFIG", str(path))
        return path

    return write


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[ledger\ndeadline_days_village = 7\n", "第 1 行"),
        ('[ledger]\nphone_visible_roles = ["a",\n', "格式不对"),
        (
            "[ledger]\ndeadline_days_village = -3\n",
            "[ledger] deadline_days_village = -3 不对：不能小于 1",
        ),
        ("[ledger]\ndeadline_days_township = 0\n", "[ledger] deadline_days_township = 0 不对"),
        ("[retrieval]\nmin_confidence = 5\n", "[retrieval] min_confidence = 5 不对：不能大于 1"),
        ("[retrieval]\nmin_confidence = -0.1\n", "min_confidence = -0.1 不对：不能小于 0"),
        ("[ledgr]\ndeadline_days_village = 7\n", "没有 ledgr 这一节，是不是 ledger？"),
        (
            "[ledger]\ndeadline_day_village = 7\n",
            "[ledger] 里没有 deadline_day_village 这一项，是不是 deadline_days_village？",
        ),
        ("data_dri = 'x'\n", "没有 data_dri 这一项，是不是 data_dir？"),
        ('[bot]\ntoken = "123456:ABC-real-token"\n', "[bot] token 是密钥，不能写在配置文件里"),
        ('[llm]\napi_key = "sk-1"\n', "LIANHU_LLM__API_KEY"),
        ('[bot]\nmode = "hook"\n', '[bot] mode = "hook" 不对：只能是 polling 或 webhook'),
        ("[bot]\nwebhook_port = 70000\n", "webhook_port = 70000 不对"),
        ('[schedule]\ntimezone = "Beijing"\n', "不是认得的时区"),
        ('[schedule]\nweekly_digest_cron = "every monday"\n', "五段的 cron"),
        ('[ledger]\ndeadline_days_village = "七"\n', "应该是整数"),
        ('[ledger.special_tags]\n"低保户" = 0\n', "special_tags 中的 低保户 = 0 不对"),
        ("ledger = 3\n", "ledger 应该是一节 [ledger]"),
    ],
)
def test_item18_each_mistake_is_one_chinese_line_naming_file_and_key(config, text, expected):
    path = config(text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert str(path) in message
    assert 1 == len(message.splitlines())


def test_item18_config_pointing_at_a_missing_file(config, tmp_path, monkeypatch):
    monkeypatch.setenv("LIANHU_CONFIG", str(tmp_path / "nowhere.toml"))
    with pytest.raises(ConfigError, match="LIANHU_CONFIG 指向的配置文件 .*nowhere.toml 不存在"):
        load_settings()


def test_item18_environment_mistakes_name_the_variable(config, monkeypatch):
    config("[ledger]\ndeadline_days_village = 7\n")
    monkeypatch.setenv("LIANHU_LEDGER__DEADLINE_DAYS_TOWNSHIP", "-1")
    with pytest.raises(ConfigError, match="环境变量 LIANHU_LEDGER__DEADLINE_DAYS_TOWNSHIP"):
        load_settings()
    monkeypatch.delenv("LIANHU_LEDGER__DEADLINE_DAYS_TOWNSHIP")
    monkeypatch.setenv("LIANHU_BOT__TOKN", "123:abc")
    with pytest.raises(ConfigError, match="LIANHU_BOT__TOKN：\\[bot\\] 里没有 tokn 这一项"):
        load_settings()


def test_item18_a_correct_file_and_the_token_from_the_environment_are_accepted(config, monkeypatch):
    config("[ledger]\ndeadline_days_village = 5\n[retrieval]\nmin_confidence = 1\n")
    monkeypatch.setenv("LIANHU_BOT__TOKEN", "123:abc")
    settings = load_settings()
    assert (5, 1.0, "123:abc") == (
        settings.ledger.deadline_days_village,
        settings.retrieval.min_confidence,
        settings.bot.token.get_secret_value(),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("[ledger]\ndeadline_days_village = \n", "格式不对"), ('[bot]\ntoken = "1:x"\n', "密钥")],
)
def test_item18_cli_prints_the_line_and_exits_nonzero_without_traceback(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANHU_")}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "digest", "--data-dir", str(tmp_path / "data")],
        env={**env, "LIANHU_CONFIG": str(path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 2 == run.returncode
    assert "" == run.stdout
    assert [True] == [expected in line and str(path) in line for line in run.stderr.splitlines()]
    assert not (tmp_path / "data" / "ledger.db").exists()  # stopped before touching the ledger
