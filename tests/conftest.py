"""Database fixtures shared by every test package: `database_url` and an opened `db`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from storage import Database, normalize_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

# Set once PostgreSQL turns out unreachable, so the remaining tests skip without retrying.
_postgres_unreachable: str | None = None


async def _reset_postgres(url: str) -> None:
    """Leave the test database empty: every test starts from an unmigrated schema."""
    global _postgres_unreachable
    if _postgres_unreachable is None:
        engine = create_async_engine(normalize_url(url), connect_args={"timeout": 5})
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                await connection.exec_driver_sql("CREATE SCHEMA public")
        except (OSError, SQLAlchemyError) as exc:
            _postgres_unreachable = f"PostgreSQL at {url} is unusable: {exc!r}"
        finally:
            await engine.dispose()
    if _postgres_unreachable is not None:
        if os.environ.get("CI"):
            pytest.fail(_postgres_unreachable)
        print(_postgres_unreachable)
        pytest.skip(_postgres_unreachable)


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql")]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database, once per backend; `-k sqlite` picks the fast half."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)
    await _reset_postgres(url)
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await Database.open(database_url)
    try:
        yield database
    finally:
        await database.close()
