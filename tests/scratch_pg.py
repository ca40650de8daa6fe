"""This run's own PostgreSQL database: created on first use, emptied for each test, dropped
at the end of the session (by `pytest_sessionfinish` in tests/conftest.py).

One module, imported as `tests.scratch_pg` by the conftest and by tests alike, so there is
one scratch database per run whatever imported it first.
"""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from storage import normalize_url

# The server the suite may use; it creates a scratch database of its own there, drops it at
# the end, and never touches any other database, so two runs on one server never meet.
DEFAULT_POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"

# Set once PostgreSQL turns out unreachable, so the remaining tests skip without retrying.
_postgres_unreachable: str | None = None
_scratch_url: str | None = None


def _server_url() -> URL:
    return make_url(normalize_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_SERVER)))


async def _on_server(url: URL, *statements: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def postgres_url() -> str:
    """This run's scratch PostgreSQL database, emptied: every caller starts from an
    unmigrated schema. Skips (or, in CI, fails) with the reason when there is no server."""
    global _postgres_unreachable, _scratch_url
    server = _server_url()
    if _postgres_unreachable is None:
        try:
            if _scratch_url is None:
                name = f"bot_test_{os.getpid()}_{secrets.token_hex(4)}"
                await _on_server(server, f'CREATE DATABASE "{name}"')
                _scratch_url = server.set(database=name).render_as_string(hide_password=False)
            await _on_server(
                make_url(_scratch_url),
                "DROP SCHEMA IF EXISTS public CASCADE",
                "CREATE SCHEMA public",
            )
        except (OSError, SQLAlchemyError) as exc:
            shown = server.render_as_string(hide_password=True)
            _postgres_unreachable = f"PostgreSQL at {shown} is unusable: {exc!r}"
    if _postgres_unreachable is not None:
        if os.environ.get("CI"):
            pytest.fail(_postgres_unreachable)
        print(_postgres_unreachable)
        pytest.skip(_postgres_unreachable)
    assert _scratch_url is not None
    return _scratch_url


def drop_scratch() -> None:
    """Drop the scratch database (FORCE: a test that failed may have left a connection)."""
    if _scratch_url is not None:
        name = make_url(_scratch_url).database
        asyncio.run(_on_server(_server_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def fresh_postgres_database() -> str:
    """A new, empty database of its own on the test server (for a test that drops it or
    starts processes on it from nothing); the caller drops it with `drop_postgres_database`."""
    await postgres_url()  # skips (or fails in CI) the same way when there is no server
    name = f"bot_test_{os.getpid()}_{secrets.token_hex(4)}"
    await _on_server(_server_url(), f'CREATE DATABASE "{name}"')
    return _server_url().set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    await _on_server(_server_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
