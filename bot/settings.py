"""Runtime settings from the environment and `.env`, built once at start-up and passed down."""

from __future__ import annotations

import io
from pathlib import Path

from dotenv.parser import parse_stream
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import messages as msg

DEFAULT_DATABASE_URL = "sqlite:///data/bot.db"
DEFAULT_CONFIG_PATH = Path("config/binh_son.toml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # repr=False: the URL may carry a password, and settings objects end up in logs and errors.
    database_url: str = Field(default=DEFAULT_DATABASE_URL, repr=False)
    timezone: str = Field(default="Asia/Ho_Chi_Minh")
    config_path: Path = Field(default=DEFAULT_CONFIG_PATH)
    log_level: str = Field(default="INFO")
    telegram_bot_token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(msg.SETTING_EMPTY)
        return value.strip()


ENV_FILE = Path(".env")


def check_env_file(path: Path = ENV_FILE) -> None:
    """Refuse a `.env` the settings would misread without a word (python-dotenv skips a line
    it cannot parse, and a file that is not UTF-8 ends in a traceback): ValueError, one line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(msg.env_file_not_utf8(str(path))) from exc
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ValueError(msg.env_file_bad_line(str(path), binding.original.line))
