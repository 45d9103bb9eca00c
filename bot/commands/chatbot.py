"""Commands that talk with people: `run` (the bot, or the console without a token) and `chat`."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.commands.common import DataDirOption, settings_for

log = logging.getLogger(__name__)

NO_TOKEN = (
    "未设置 LIANHU_BOT__TOKEN（Telegram），也未设置 LIANHU_WECOM__BOT_ID 和 "
    "LIANHU_WECOM__SECRET（企业微信），改为本机对话模式。"
)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("chat")(chat_command)


def run_command(data_dir: DataDirOption = None) -> None:
    """运行联户助手：设置了 LIANHU_BOT__TOKEN 就连 Telegram，设置了 LIANHU_WECOM__BOT_ID 和
    LIANHU_WECOM__SECRET 就连企业微信（可同时），都没设置则进入本机对话。"""
    settings = settings_for(data_dir)
    if settings.bot.token.get_secret_value() or settings.wecom.enabled:
        try:
            from bot.app import run_bot
        except ImportError as exc:
            typer.echo(f"机器人尚未安装完整：{exc}", err=True)
            raise typer.Exit(1) from exc
        run_bot(settings)
        return
    typer.echo(NO_TOKEN, err=True)
    from bot.console import run_console

    run_console(settings)


def chat_command(
    data_dir: DataDirOption = None,
    as_name: Annotated[str | None, typer.Option("--as", help="以台账里这位成员的身份对话")] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="以这个角色的第一位成员对话，如 village_coordinator"),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="问政策时所在的地方（县、乡镇或村），用来查当地标准；默认按成员所在村推到乡镇、县",
        ),
    ] = None,
) -> None:
    """本机对话：和机器人完全相同的流程（问政策、走访、问题、周报）；一行一条消息，也可从管道读入。"""
    from bot.console import run_console

    run_console(settings_for(data_dir), as_name=as_name, role=role, region=region)
