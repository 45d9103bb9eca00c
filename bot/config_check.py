"""Checking config.toml and LIANHU_* variables, with one Chinese line per mistake.

A coordinator edits config.toml by hand; a typo must not turn into a long English traceback or,
worse, be ignored (a misspelled `[ledgr]` section silently kept the default deadlines). Each
message names the file or the environment variable, the key, and what to write instead.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, SecretStr, ValidationError


class ConfigError(Exception):
    """A setting that cannot be used; the message is one Chinese line for the person running it."""


def read_config_file(path: Path, settings_cls: type[BaseModel]) -> dict:
    """The file's settings, checked against the model's sections and keys."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"读不了配置文件 {path}：{exc.strerror or exc}。") from None
    except UnicodeDecodeError:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 文本，请用 UTF-8 编码另存。") from None
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        if where:
            place = f"第 {where[1]} 行第 {where[2]} 列附近"
        else:
            place = "末尾" if "end of document" in str(exc) else "里"
        raise ConfigError(
            f"配置文件 {path} {place}格式不对：请检查等号、引号和 [节名]（写法见项目自带的 config.toml）。"
        ) from None
    _check_keys(data, settings_cls, path, [])
    return data


def _check_keys(data: dict, model: type[BaseModel], path: Path, section: list[str]) -> None:
    fields = model.model_fields
    for key, value in data.items():
        field = fields.get(key)
        where = _where(section, key)
        if field is None:
            known = list(fields)
            guess = difflib.get_close_matches(key, known, n=1)
            hint = f"是不是 {guess[0]}？" if guess else f"可以写的有：{'、'.join(known)}。"
            kind = "这一节" if isinstance(value, dict) else "这一项"
            if section:
                raise ConfigError(
                    f"配置文件 {path}：[{'.'.join(section)}] 里没有 {key} {kind}，{hint}"
                )
            raise ConfigError(f"配置文件 {path}：没有 {where} {kind}，{hint}")
        annotation = field.annotation
        if annotation is SecretStr:
            raise ConfigError(
                f"配置文件 {path}：{where} 是密钥，不能写在配置文件里；请删掉这一行，"
                f"改用环境变量 {env_name([*section, key])}。"
            )
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(value, dict):
                raise ConfigError(f"配置文件 {path}：{key} 应该是一节 [{key}]，下面每行一个设置。")
            _check_keys(value, annotation, path, [*section, key])


def describe_validation_error(exc: ValidationError, path: Path | None) -> str:
    """The first error as one line: where the value came from, the key, and what is wrong."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    # a dict setting (special_tags) reports its key too: show it as a key of that table
    field_path = loc[:2] if len(loc) > 2 else loc
    source = _source(field_path, path)
    key = _where(field_path[:-1], field_path[-1])
    if len(loc) > 2:
        key += f" 中的 {'.'.join(loc[2:])}"
    if error["type"] == "extra_forbidden":
        inside = f"[{'.'.join(loc[:-1])}] 里" if len(loc) > 1 else ""
        return f"{source}：{inside}没有 {loc[-1]} 这一项（拼错了吗？）"
    value = error.get("input")
    shown = ""
    if isinstance(value, (int, float, str)):
        from_env = source.startswith("环境变量")
        shown = f" = {value if from_env else json.dumps(value, ensure_ascii=False)}"
    return f"{source}：{key}{shown} 不对：{_reason(error)}。"


def env_name(loc: list[str]) -> str:
    return "LIANHU_" + "__".join(part.upper() for part in loc)


def _source(loc: list[str], path: Path | None) -> str:
    name = env_name(loc)
    if any(k.upper() == name for k in os.environ):
        return f"环境变量 {name}"
    return f"配置文件 {path}" if path else "设置"


def _where(section: list[str], key: str) -> str:
    return f"[{'.'.join(section)}] {key}".strip() if section else key


def _reason(error: dict) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than_equal":
        return f"不能小于 {ctx['ge']:g}"
    if kind == "greater_than":
        return f"必须大于 {ctx['gt']:g}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx['le']:g}"
    if kind == "less_than":
        return f"必须小于 {ctx['lt']:g}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "应该是整数"
    if kind in ("float_parsing", "float_type"):
        return "应该是数字"
    if kind in ("bool_parsing", "bool_type"):
        return "应该是 true 或 false"
    if kind == "literal_error":
        return "只能是 " + str(ctx.get("expected", "")).replace("'", "").replace(" or ", " 或 ")
    if kind == "string_type":
        return "应该是加引号的文字"
    if kind == "string_too_short":
        return "不能是空的"
    if kind == "list_type":
        return '应该是列表，如 ["a", "b"]'
    if kind in ("dict_type", "model_type"):
        return "应该是一节（表）"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]
