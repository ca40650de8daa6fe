from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from storage import Database, normalize_url
from storage.db import MIGRATIONS, create_engine, migrate
from storage.models import Base, app_owned


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/bot.db", "sqlite+aiosqlite:///data/bot.db"),
        ("sqlite:////abs/bot.db", "sqlite+aiosqlite:////abs/bot.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite+aiosqlite:///bot.db", "sqlite+aiosqlite:///bot.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["mysql://u@h/db", "postgresql+psycopg://u@h/db", "sqlite+pysqlite:///x.db", "bot.db", ""],
)
def test_normalize_url_refuses_others(url: str) -> None:
    with pytest.raises(ValueError, match=r"postgresql://") as info:
        normalize_url(url)
    assert "\n" not in str(info.value)


async def test_migrate_twice_is_harmless(db: Database) -> None:
    await migrate(db.engine)
    async with db.engine.connect() as connection:
        version = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        assert version.scalars().all() == [_head()]


def _head() -> str | None:
    """The newest revision (one head: migrations form a single chain)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


async def test_migrations_match_models(db: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        # Procrastinate's tables (migration 0011, its own schema.sql) are not the app's models.
        context = MigrationContext.configure(connection, opts={"include_name": app_owned})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_sqlite_pragmas_and_parent_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "bot.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert (await pragma("PRAGMA journal_mode")).scalar() == "wal"
            assert (await pragma("PRAGMA synchronous")).scalar() == 2  # FULL
            assert (await pragma("PRAGMA foreign_keys")).scalar() == 1
            assert (await pragma("PRAGMA busy_timeout")).scalar() == 5000
        assert path.exists()
    finally:
        await engine.dispose()


async def test_in_memory_sqlite_keeps_its_schema() -> None:
    async with await Database.open("sqlite://") as db, db.unit_of_work() as uow:
        await uow.audit.add(datetime.now(UTC), "bot", "test")
        assert [e.action for e in await uow.audit.recent(1)] == ["test"]
