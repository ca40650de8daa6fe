"""Composition: settings -> catalogue -> database -> engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.config_file import StartupError, load_catalogue
from bot.settings import Settings
from core.catalogue import Catalogue
from handlers.engine import Engine
from storage import Database, normalize_url


@dataclass
class App:
    settings: Settings
    catalogue: Catalogue
    db: Database
    engine: Engine

    async def close(self) -> None:
        self.engine.close()
        await self.db.close()


async def open_app(
    settings: Settings,
    *,
    config_path: Path | None = None,
    database_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> App:
    catalogue = load_catalogue(config_path or settings.config_path, settings.timezone)
    db = await open_database(database_url or settings.database_url)
    engine = Engine(catalogue, db, clock or (lambda: datetime.now(UTC)))
    return App(settings, catalogue, db, engine)


async def open_database(url: str) -> Database:
    """The database at `url`, migrated to the newest schema; StartupError in one line."""
    try:
        normalize_url(url)
    except ValueError as exc:
        raise StartupError(f"DATABASE_URL không hợp lệ: {exc}") from exc
    try:
        db = await Database.open(url)
    except (SQLAlchemyError, OSError, TypeError) as exc:  # TypeError: an unknown URL option
        raise StartupError(
            f"không mở được cơ sở dữ liệu ({_redact(url)}): {_first_line(exc)}"
        ) from exc
    return db


def _redact(url: str) -> str:
    """A database URL fit for a message: the password hidden wherever it is written, in the
    user part (which may itself contain `@`) or as a `password=` query parameter."""
    scheme, sep, rest = url.partition("://")
    address, qmark, query = rest.partition("?")
    # The host follows the *last* `@` of the address: a password may contain `@`.
    userinfo, at, host = address.rpartition("@")
    if at and ":" in userinfo:
        address = f"{userinfo.split(':', 1)[0]}:***@{host}"
    if qmark:
        query = "&".join(
            f"{name}=***" if "pass" in name.lower() or "pwd" in name.lower() else f"{name}{eq}{v}"
            for name, eq, v in (item.partition("=") for item in query.split("&"))
        )
    return f"{scheme}{sep}{address}{qmark}{query}"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
