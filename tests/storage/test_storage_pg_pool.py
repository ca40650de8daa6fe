"""PostgreSQL's pool tests a connection before use only when it has been idle a while
(storage/db.py): a server restart while the bot was idle costs no message; a connection that
dies right after being used costs that one unit of work, and the pool heals by itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

import storage.db
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
        return sorted(e.action for e in await uow.audit.recent(10))


async def test_an_idle_connection_is_tested_and_replaced(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "PG_PING_AFTER_IDLE", 0.0)  # every connection "idle"
    await _write(pg, "before")
    await _restart_server_side(pg)
    await _write(pg, "after")  # the dead connection is found out before use: no failure
    assert await _actions(pg) == ["after", "before"]


async def test_a_connection_cut_right_after_use_costs_one_unit_of_work(pg: Database) -> None:
    await _write(pg, "before")
    await _restart_server_side(pg)
    with pytest.raises(DBAPIError) as info:
        await _write(pg, "lost")  # used a moment ago: not tested, and it is dead
    assert info.value.connection_invalidated
    await _write(pg, "after")  # the pool replaced it by itself
    assert await _actions(pg) == ["after", "before"]
