"""Commands of the ledger: demo, digest, export, backup, import-roster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.common import DataDirOption, settings_for
from bot.services.ledger_types import LedgerError


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
    app.command("digest")(digest_command)
    app.command("export")(export_command)
    app.command("backup")(backup_command)
    app.command("import-roster")(import_roster_command)
    app.command("roster-template")(roster_template_command)


def _ledger(data_dir):
    from bot.services.ledger_service import LedgerService

    return LedgerService.open(settings_for(data_dir))


def demo_command(
    data_dir: DataDirOption = None,
    seed: Annotated[int, typer.Option("--seed", help="随机种子，同一种子生成同样的数据")] = 7,
) -> None:
    """生成演示乡镇：3 个村、约 30 名联户党员、250 户、8 周的走访和各种状态的问题。"""
    from bot.services.demo import build_demo

    try:
        counts = build_demo(_ledger(data_dir), seed)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"演示数据已生成：成员 {counts['members']} 人，农户 {counts['households']} 户，"
        f"走访 {counts['visits']} 次，问题 {counts['problems']} 个。"
    )


def digest_command(
    data_dir: DataDirOption = None,
    week: Annotated[
        str | None, typer.Option("--week", help="ISO 周，如 2026-W47；默认上一个完整周")
    ] = None,
    village: Annotated[str | None, typer.Option("--village", help="只看一个村")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="一行 JSON 输出")] = False,
    png: Annotated[Path | None, typer.Option("--png", help="另存一张图表 PNG")] = None,
) -> None:
    """每周民情简报：走访、覆盖、问题、办结率、满意率、未走访的党员，并与上周对比。"""
    from bot.services.digest import digest_text

    ledger = _ledger(data_dir)
    try:
        digest = ledger.digest(week, village)
    except LedgerError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if png:
        from bot.services.chart import digest_png

        png.write_bytes(digest_png(digest))
    if as_json:
        typer.echo(json.dumps(digest.to_json(), ensure_ascii=False))
    else:
        typer.echo(digest_text(digest, ledger.tz))


def export_command(
    out: Annotated[Path, typer.Option("--out", help="导出的 Excel 文件，如 台账.xlsx")],
    data_dir: DataDirOption = None,
    village: Annotated[str | None, typer.Option("--village", help="只导出一个村")] = None,
    show_phones: Annotated[
        bool, typer.Option("--show-phones", help="显示完整电话（仅限有权限的管理员）")
    ] = False,
) -> None:
    """把台账导出为 Excel：走访记录、问题台账、农户、汇总；电话和身份证号默认打码。"""
    import time

    from bot.services.ledger_types import Member

    ledger = _ledger(data_dir)
    viewer = Member(0, "命令行", "township_coordinator") if show_phones else None
    started = time.perf_counter()
    written = ledger.export(out, viewer=viewer, village=village)
    rows = "，".join(f"{k} {v} 行" for k, v in written.items())
    typer.echo(f"已导出 {out}（{rows}，用时 {time.perf_counter() - started:.1f} 秒）")


def backup_command(
    out: Annotated[Path, typer.Option("--out", help="备份文件，如 backup/ledger-2026-11-22.db")],
    data_dir: DataDirOption = None,
) -> None:
    """在线备份台账数据库（机器人运行时也可以做）。"""
    _ledger(data_dir).backup(out)
    typer.echo(f"已备份到 {out}")


def import_roster_command(
    file: Annotated[Path, typer.Argument(help="花名册 Excel（党员、农户两张表）或 CSV")],
    data_dir: DataDirOption = None,
) -> None:
    """导入或更新党员和农户花名册（姓名+村、编号或村+户主+门牌认定同一条）；有任何一行不对就全部不导入，并逐行说明原因。"""
    from bot.services.roster import import_roster

    report = import_roster(_ledger(data_dir), file)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def roster_template_command(
    out: Annotated[Path, typer.Option("--out", help="模板文件，如 花名册模板.xlsx")] = Path(
        "花名册模板.xlsx"
    ),
) -> None:
    """生成花名册 Excel 模板：党员、农户两张表各一行示例，另有一张“说明”逐列讲怎么填。"""
    from bot.services.roster import write_template

    write_template(out)
    typer.echo(f"已生成花名册模板 {out}")
