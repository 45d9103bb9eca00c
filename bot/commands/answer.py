"""Commands of the policy-answers feature: ingest, ask, eval."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.common import DataDirOption, settings_for


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("embed-cards")(embed_cards_command)
    app.command("ask")(ask_command)
    app.command("eval")(eval_command)
    app.command("fit")(fit_command)


def ingest_command(
    paths: Annotated[
        list[Path], typer.Argument(help="文件或文件夹：Markdown、文本、docx、pdf、html")
    ] = None,
    data_dir: DataDirOption = None,
    prune: Annotated[bool, typer.Option("--prune", help="删除索引里文件已不存在的文档")] = False,
    keyword_only: Annotated[
        bool,
        typer.Option(
            "--keyword-only",
            help="先只建关键词索引（大批文件几分钟就能用），不算条文向量；之后再运行一次 lianhu ingest 补上向量",
        ),
    ] = False,
) -> None:
    """导入政策文件（和内置知识卡片），建立检索索引；未改动的文件自动跳过，中断后再运行会接着做。"""
    from ingest.generations import IngestBusy
    from ingest.pipeline import ingest
    from ingest.progress import progress_display

    settings = settings_for(data_dir)
    try:
        with progress_display() as progress:
            report = ingest(
                settings, paths or [], prune=prune, keyword_only=keyword_only, progress=progress
            )
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except IngestBusy as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(report.summary())
    if report.errors:
        typer.echo(
            f"以下 {len(report.errors)} 个文件无法读取，没有导入（其余文件已导入）：", err=True
        )
        for error in report.errors[:50]:
            typer.echo(f"  - {error}", err=True)
        if len(report.errors) > 50:
            typer.echo(f"  ……另有 {len(report.errors) - 50} 个", err=True)
        raise typer.Exit(1)


def embed_cards_command(
    data_dir: DataDirOption = None,
) -> None:
    """重新计算知识卡片的向量（knowledge/card_vectors.*），改了卡片后运行；只算改动过的卡片。"""
    from bot.search.card_vectors import write_shipped
    from bot.search.embedders import make_embedder
    from bot.services.cards import load_cards
    from ingest.pipeline import card_body

    settings = settings_for(data_dir)
    embedder = make_embedder(settings)
    if embedder is None:
        typer.echo("[embeddings] backend 是 none：没有向量可算", err=True)
        raise typer.Exit(2)
    cards = [card_body(c) for c in load_cards(settings.knowledge_dir)]
    texts, embedded = write_shipped(settings.knowledge_dir, cards, embedder)
    typer.echo(
        f"卡片 {len(cards)} 张，文本 {texts} 条，新算 {embedded} 条；已写入 {settings.knowledge_dir}"
    )


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


def fit_command(
    train: Annotated[
        Path, typer.Option("--train", help="训练问题所在文件夹（*.jsonl，格式同评测集）")
    ] = Path("train"),
    data_dir: DataDirOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="写入的模型文件；默认存在数据目录的索引旁（knowledge/answer_model.json 是随附的默认模型）",
        ),
    ] = None,
) -> None:
    """用自己的训练问题拟合排序与拒答模型，报告 5 折交叉验证的结果（评测集不参与）。"""
    from bot.search.loader import MODEL_FILE, load_retriever
    from bot.services.fitting import fit

    settings = settings_for(data_dir)
    # the signals depend on the index, so by default the model belongs to this data directory
    target = out or settings.index_dir / MODEL_FILE
    try:
        report = fit(load_retriever(settings), train, target)
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(report, ensure_ascii=False))
