"""Which process runs the scheduled jobs: the one holding a PostgreSQL advisory lock.

The lock is a session lock on a dedicated connection kept open: it is released when that
connection closes, whether the holder stops cleanly or dies (PostgreSQL ends the session of a
dead client). SQLite serves one process, which always leads.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# One number for "the scheduler of this bot" in pg_locks; any constant bigint works.
SCHEDULER_LOCK = 6_062_024


class LeaderLock:
    def __init__(self, engine: AsyncEngine, key: int = SCHEDULER_LOCK) -> None:
        self._url = engine.url
        self._key = key
        self._postgres = engine.dialect.name == "postgresql"
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or not self._postgres

    async def try_acquire(self) -> bool:
        """Take the lock if free; True when this process holds it (now or already)."""
        if not self._postgres or self._connection is not None:
            return True
        if self._engine is None:
            # NullPool: closing the connection really closes the session, releasing the lock.
            self._engine = create_async_engine(self._url, poolclass=NullPool)
        try:
            connection = await self._engine.connect()
        except (SQLAlchemyError, OSError):
            log.warning("cannot reach PostgreSQL to take the scheduler lock", exc_info=True)
            return False
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
        except (SQLAlchemyError, OSError):
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def alive(self) -> bool:
        """Still holding the lock: the session that holds it still answers."""
        if not self._postgres:
            return True
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            log.warning("lost the scheduler lock's connection", exc_info=True)
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        """Give the lock up by closing its session (another process may take it)."""
        await self._drop()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except (SQLAlchemyError, OSError):
                await connection.invalidate()
