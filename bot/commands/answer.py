"""Commands of the policy-answers feature: ingest, ask, eval."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.common import DataDirOption, settings_for


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("ask")(ask_command)
    app.command("eval")(eval_command)
    app.command("calibrate")(calibrate_command)


def ingest_command(
    paths: Annotated[
        list[Path], typer.Argument(help="文件或文件夹：Markdown、文本、docx、pdf、html")
    ] = None,
    data_dir: DataDirOption = None,
    prune: Annotated[bool, typer.Option("--prune", help="删除索引里文件已不存在的文档")] = False,
) -> None:
    """导入政策文件（和内置知识卡片），建立检索索引；未改动的文件自动跳过。"""
    from rich.progress import Progress

    from ingest.pipeline import ingest

    settings = settings_for(data_dir)
    try:
        if sys.stderr.isatty():
            with Progress(transient=True) as bar:
                task = bar.add_task("导入中", total=None)
                report = ingest(
                    settings,
                    paths or [],
                    prune=prune,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        else:
            report = ingest(settings, paths or [], prune=prune)
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(report.summary())
    for error in report.errors[:20]:
        typer.echo(f"  - {error}", err=True)


def ask_command(
    question: Annotated[str, typer.Argument(help="问题，用大白话就行")],
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    region: Annotated[str | None, typer.Option("--region", help="所在地区，用于地方标准")] = None,
) -> None:
    """回答一个政策问题：简短回答、文件和条款、怎么办。"""
    from bot.services.answer import Answerer, ensure_index, format_answer

    settings = settings_for(data_dir)
    ensure_index(settings)
    answer = Answerer.from_settings(settings).answer(question, region=region)
    if as_json:
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        typer.echo(format_answer(answer))


def eval_command(
    file: Annotated[Path, typer.Argument(help="问题集 JSONL（格式同 dev_questions.jsonl）")],
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="一行 JSON 输出")] = False,
    details: Annotated[Path | None, typer.Option("--details", help="逐题结果写入此 JSONL")] = None,
) -> None:
    """评测检索：hit@1、hit@5、MRR@10、拒答率、延迟。"""
    from bot.services.answer import Answerer, ensure_index
    from bot.services.evaluate import evaluate, load_questions

    settings = settings_for(data_dir)
    ensure_index(settings)
    summary, results = evaluate(
        Answerer.from_settings(settings, use_llm=False), load_questions(file)
    )
    if details:
        with details.open("w", encoding="utf-8") as out:
            for r in results:
                out.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            typer.echo(f"{key}: {value}")


def calibrate_command(
    file: Annotated[Path, typer.Argument(help="带标注的问题集 JSONL（gold 为空表示超出范围）")],
    data_dir: DataDirOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="写入的模型文件；默认存在数据目录的索引旁（knowledge/ 里的是随附的默认模型）",
        ),
    ] = None,
) -> None:
    """用带标注的问题拟合拒答模型（何时说“没有依据”），并报告留一交叉验证的结果。"""
    from bot.search.loader import load_retriever
    from bot.services.calibrate import calibrate

    settings = settings_for(data_dir)
    # the signals depend on the index, so by default the model belongs to this data directory
    target = out or settings.index_dir / "refusal_model.json"
    report = calibrate(load_retriever(settings), file, target, settings.retrieval.min_confidence)
    typer.echo(json.dumps(report, ensure_ascii=False))
