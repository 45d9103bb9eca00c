"""Options shared by every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.config import Settings, load_settings

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="数据目录（索引和台账）；也可用环境变量 LIANHU_DATA_DIR。"),
]


def settings_for(data_dir: Path | None) -> Settings:
    return load_settings(data_dir)
