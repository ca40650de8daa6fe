"""Runtime settings from the environment and `.env`, built once at start-up and passed down."""

from __future__ import annotations

import io
from pathlib import Path

from dotenv.parser import parse_stream
from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import texts

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
    # The Bot API server's root; the bot adds /bot<token>/<method>. Change it for a
    # self-hosted local Bot API server.
    telegram_api_base_url: str = Field(default="https://api.telegram.org")
    # Public HTTPS URL of this process's /telegram/webhook; empty means long polling.
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    # Polling while another process receives by webhook is refused unless this is set: the
    # webhook is then deleted and this process receives every update (docs/DEPLOY.md).
    telegram_take_over_webhook: bool = False
    # The process's web server (webhooks; chart files later).
    web_host: str = "0.0.0.0"
    web_port: int = Field(default=8080, ge=0, le=65535)
    form_timeout_minutes: float = Field(default=10, gt=0)
    # The leases of the scheduler's leader and of a polling adapter (storage/lease.py): a
    # holder that stops renewing is replaced within TTL + RENEW seconds (40 s by default).
    lease_ttl_seconds: float = Field(default=30, ge=3, le=300)
    lease_renew_seconds: float = Field(default=10, gt=0)

    @field_validator("lease_renew_seconds")
    @classmethod
    def _renew_well_inside_ttl(cls, value: float, info: ValidationInfo) -> float:
        # One renewal may fail and the next still land before the holder fences itself.
        ttl = info.data.get("lease_ttl_seconds")
        if ttl is not None and value * 3 > ttl:
            raise ValueError(texts.LEASE_RENEW_TOO_SLOW)
        return value

    @field_validator("database_url")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(texts.SETTING_EMPTY)
        return value.strip()

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        """`123456789:AA…` as BotFather gives it; an empty value means no Telegram."""
        if value is None or not value.get_secret_value().strip():
            return None
        head, _, tail = value.get_secret_value().strip().partition(":")
        if not head.isdigit() or len(tail) < 20:
            raise ValueError("not a Telegram bot token (expected 123456789:ABC… from @BotFather)")
        return SecretStr(value.get_secret_value().strip())

    # --- Zalo (bot/zalo) and the public web address its photos and webhook need -----------
    zalo_bot_token: SecretStr | None = None
    zalo_api_base_url: str = Field(default="https://bot-api.zaloplatforms.com")
    # Set together with PUBLIC_BASE_URL for webhook mode; without it the bot long-polls.
    zalo_webhook_secret: SecretStr | None = None
    # Where this server is reachable from the internet, e.g. https://baocao.example.vn
    public_base_url: str | None = None
    zalo_monthly_limit: int = Field(default=3000, ge=1)
    # Like TELEGRAM_TAKE_OVER_WEBHOOK: long polling while a Zalo webhook is set is refused
    # unless this is set; the webhook is then deleted and this process polls.
    zalo_take_over_webhook: bool = False

    @field_validator("zalo_bot_token", "zalo_webhook_secret", "public_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not 8 <= len(value.get_secret_value()) <= 256:
            raise ValueError("ZALO_WEBHOOK_SECRET must have 8 to 256 characters")
        return value

    @field_validator("public_base_url", "zalo_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http://)")
        return value


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
        raise ValueError(texts.env_file_not_utf8(str(path))) from exc
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ValueError(texts.env_file_bad_line(str(path), binding.original.line))
