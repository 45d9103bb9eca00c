"""The `lianhu` command line: thin commands over the services.

Each feature keeps its commands in `bot/commands/<feature>.py` with a `register(app)` function,
so that the answer, ledger and bot features do not edit one shared file.
"""

from __future__ import annotations

import importlib
import logging

import typer

app = typer.Typer(
    help="联户助手 Lianhu: 政策问答、民情台账、每周简报。",
    no_args_is_help=True,
    add_completion=False,
)

# Order is the order of `lianhu --help`.
COMMAND_MODULES = ("bot.commands.answer", "bot.commands.ledger", "bot.commands.chatbot")


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # the feature is not there yet
                continue
            raise
        module.register(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _register_all()
    # A wrong setting or an unusable ledger is the operator's to fix: one Chinese line saying
    # what and where, and a non-zero exit, never a traceback.
    from bot.config_check import ConfigError
    from bot.ledger.db import LedgerUnavailable

    try:
        app()
    except (ConfigError, LedgerUnavailable) as exc:
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from None
