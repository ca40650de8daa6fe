"""Runtime settings from the environment and `.env`, built once at start-up and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///data/bot.db"
DEFAULT_CONFIG_PATH = Path("config/binh_son.toml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL)
    timezone: str = Field(default="Asia/Ho_Chi_Minh")
    config_path: Path = Field(default=DEFAULT_CONFIG_PATH)
    log_level: str = Field(default="INFO")
    telegram_bot_token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("DATABASE_URL is empty")
        return value.strip()
