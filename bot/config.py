"""Settings: defaults in code, overridden by config.toml, then by LIANHU_* environment variables.

Every key of config.toml maps to an environment variable `LIANHU_<SECTION>__<KEY>`
(for example `LIANHU_EMBEDDINGS__BACKEND=openai`); the data directory is `LIANHU_DATA_DIR`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_KNOWLEDGE = PROJECT_ROOT / "knowledge"


class RetrievalSettings(BaseModel):
    knowledge_dir: str = ""  # empty: the bundled knowledge/ folder
    top_k: int = 10
    rrf_k: int = 60
    # An answer is given only when the calibrated confidence reaches this value (0..1).
    min_confidence: float = 0.4
    use_cards: bool = True  # false: ignore the knowledge cards (to measure what they add)


class EmbeddingsSettings(BaseModel):
    backend: str = "none"  # none | sentence-transformers | openai
    model: str = ""  # sentence-transformers: model name or local path (never downloaded)
    base_url: str = ""  # openai: e.g. http://127.0.0.1:8011/v1
    api_key: SecretStr = SecretStr("")
    query_model: str = ""
    document_model: str = ""
    query_prefix: str = ""
    document_prefix: str = ""
    batch_size: int = 32
    timeout_s: float = 10.0


class LLMSettings(BaseModel):
    enabled: bool = False
    base_url: str = ""
    model: str = ""
    api_key: SecretStr = SecretStr("")
    temperature: float = 0.1
    timeout_s: float = 15.0


class LedgerSettings(BaseModel):
    """Owned by the ledger: deadlines per level, special-group visit rhythm."""

    db_file: str = "ledger.db"
    deadline_days_volunteer: int = 3
    deadline_days_village: int = 7
    deadline_days_township: int = 15
    # Tags whose households are due a visit every calendar month (tag = months between visits).
    special_tags: dict[str, int] = {
        "低保户": 1,
        "特困户": 1,
        "五保户": 1,
        "空巢老人": 1,
        "重病": 1,
        "重残": 1,
        "留守儿童": 1,
    }
    phone_visible_roles: list[str] = ["village_coordinator", "township_coordinator", "admin"]


class BotSettings(BaseModel):
    """Owned by the Telegram bot."""

    token: SecretStr = SecretStr("")
    api_base: str = ""  # empty: api.telegram.org; tests point it at a local fake server
    mode: str = "polling"  # polling | webhook
    webhook_url: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    public_ask: bool = True  # anyone may ask policy questions; the ledger needs registration


class ScheduleSettings(BaseModel):
    timezone: str = "Asia/Shanghai"
    weekly_digest_cron: str = "0 8 * * mon"
    monthly_reminder_cron: str = "0 9 1 * *"
    overdue_reminder_cron: str = "0 9 * * *"


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
    schedule: ScheduleSettings = ScheduleSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
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


def config_file() -> Path | None:
    """The TOML file in force: $LIANHU_CONFIG, else ./config.toml, else the project's own."""
    if os.environ.get("LIANHU_CONFIG"):
        return Path(os.environ["LIANHU_CONFIG"])
    for candidate in (Path.cwd() / "config.toml", PROJECT_ROOT / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(data_dir: Path | str | None = None) -> Settings:
    """Settings with an optional data directory from the command line taking precedence."""
    if data_dir is not None:
        return Settings(data_dir=Path(data_dir))
    return Settings()
