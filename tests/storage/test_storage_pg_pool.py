"""PostgreSQL: a pooled connection that sat idle is tested before use (storage/uow.py): a
server restart while the bot was idle costs no message, the pool heals by itself, and a
connection used a moment ago costs no extra round trip."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

import storage.uow
from storage import Database
from tests.scratch_pg import postgres_url

T0 = datetime(2024, 11, 8, 2, 0, tzinfo=UTC)


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    url = await postgres_url()
    db = await Database.open(url)
    try:
        yield db
    finally:
        await db.close()


async def _restart_server_side(db: Database) -> None:
    """What a server restart does to the bot's pooled connections: they are cut."""
    admin = create_async_engine(db.engine.url)
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        await admin.dispose()


async def _write(db: Database, action: str) -> None:
    async with db.unit_of_work() as uow:
        await uow.audit.add(T0, "bot", action)
        await uow.commit()


async def _actions(db: Database) -> list[str]:
    async with db.unit_of_work() as uow:
        return sorted(e.action for e in await uow.audit.recent(20))


@pytest.fixture
def idle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pooled connection counts as idle, as after a quiet night."""
    monkeypatch.setattr(storage.uow, "PG_PING_AFTER_IDLE", 0.0)


@pytest.mark.usefixtures("idle_at_once")
async def test_a_server_restart_while_idle_costs_no_message(pg: Database) -> None:
    await _write(pg, "before")
    await _restart_server_side(pg)
    await _write(pg, "after")  # the dead connection is found out before use: no failure
    assert await _actions(pg) == ["after", "before"]


@pytest.mark.usefixtures("idle_at_once")
async def test_the_pool_heals_after_a_restart_with_every_connection_dead(pg: Database) -> None:
    await asyncio.gather(*(_write(pg, f"before {n}") for n in range(5)))  # several pooled
    await _restart_server_side(pg)
    await asyncio.gather(*(_write(pg, f"after {n}") for n in range(5)))
    await _restart_server_side(pg)
    await _write(pg, "again")
    actions = await _actions(pg)
    assert actions == sorted(
        [f"before {n}" for n in range(5)] + [f"after {n}" for n in range(5)] + ["again"]
    )


async def _statements_of_a_write(pg: Database) -> list[str]:
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(pg.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await _write(pg, "second")
    finally:
        event.remove(pg.engine.sync_engine, "before_cursor_execute", seen)
    return statements


async def test_a_connection_used_a_moment_ago_is_not_tested(pg: Database) -> None:
    await _write(pg, "first")
    statements = await _statements_of_a_write(pg)
    assert len(statements) == 1  # the INSERT alone, no test query
    assert statements[0].startswith("INSERT")


async def test_an_idle_connection_is_tested_once(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _write(pg, "first")
    monkeypatch.setattr(storage.uow, "PG_PING_AFTER_IDLE", 0.0)
    statements = await _statements_of_a_write(pg)
    assert statements[0] == "SELECT 1"
    assert len(statements) == 2
