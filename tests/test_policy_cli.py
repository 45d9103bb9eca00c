"""The `lianhu` answer commands and the settings they read."""

from __future__ import annotations

import json
import tomllib

from policy_support import SAMPLE_LAW, knowledge_without_cards
from pydantic import BaseModel
from typer.testing import CliRunner

from bot import cli
from bot.config import PROJECT_ROOT, Settings

runner = CliRunner()


def _app():
    cli._register_all()
    return cli.app


def test_ingest_ask_eval(tmp_path, monkeypatch):
    monkeypatch.setenv("LIANHU_RETRIEVAL__KNOWLEDGE_DIR", str(knowledge_without_cards(tmp_path)))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "law.md").write_text(SAMPLE_LAW, encoding="utf-8")
    data = str(tmp_path / "data")
    app = _app()

    result = runner.invoke(app, ["ingest", str(docs), "--data-dir", data])
    assert 0 == result.exit_code, result.output
    assert "新增 1" in result.output

    result = runner.invoke(app, ["ask", "家里着火了能申请临时互助吗", "--json", "--data-dir", data])
    assert 0 == result.exit_code, result.output
    answer = json.loads(result.output)
    assert "第四条" == answer["citations"][0]["article"]

    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "a",
                "question": "家里着火了能申请临时互助吗",
                "gold": [{"doc": "示例县村民互助条例", "article": "第四条"}],
            },
            ensure_ascii=False,
        )
        + "\n"
        + json.dumps({"id": "b", "question": "咸菜咋腌", "gold": []}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    details = tmp_path / "details.jsonl"
    result = runner.invoke(
        app, ["eval", str(questions), "--json", "--details", str(details), "--data-dir", data]
    )
    assert 0 == result.exit_code, result.output
    summary = json.loads(result.output)
    assert {
        "n_in_scope",
        "n_out_of_scope",
        "hit@1",
        "hit@5",
        "mrr@10",
        "refusal_rate_out_of_scope",
        "false_refusal_rate",
        "latency_ms",
    } == set(summary)
    assert (1, 1, 1.0, 1.0) == (
        summary["n_in_scope"],
        summary["n_out_of_scope"],
        summary["hit@1"],
        summary["refusal_rate_out_of_scope"],
    )
    assert 2 == len(details.read_text(encoding="utf-8").splitlines())


def test_ingest_of_a_missing_path_says_so(tmp_path):
    result = runner.invoke(_app(), ["ingest", str(tmp_path / "nope"), "--data-dir", str(tmp_path)])
    assert 2 == result.exit_code
    assert "找不到" in result.output


def test_every_command_has_help_text():
    app = _app()
    for command in app.registered_commands:
        assert (command.callback.__doc__ or "").strip(), command.name


def _defaults(model: BaseModel) -> dict:
    out = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        out[name] = _defaults(value) if isinstance(value, BaseModel) else value
    return out


def test_config_toml_documents_every_default():
    """config.toml holds each setting with the value the code uses (secrets aside)."""
    file = tomllib.loads((PROJECT_ROOT / "config.toml").read_text(encoding="utf-8"))
    code = _defaults(Settings.model_construct())

    def compare(toml_part: dict, code_part: dict, path: str):
        for key, value in toml_part.items():
            assert key in code_part, f"{path}{key} is in config.toml but not in Settings"
            if (
                isinstance(value, dict)
                and isinstance(code_part[key], dict)
                and key != "special_tags"
            ):
                compare(value, code_part[key], f"{path}{key}.")
            else:
                expected = code_part[key]
                expected = str(expected) if key == "data_dir" else expected
                assert expected == value, f"{path}{key}"

    compare(file, code, "")


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("LIANHU_EMBEDDINGS__BACKEND", "openai")
    monkeypatch.setenv("LIANHU_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert "openai" == settings.embeddings.backend
    assert tmp_path == settings.data_dir
