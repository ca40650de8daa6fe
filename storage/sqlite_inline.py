"""SQLite for SQLAlchemy's asyncio layer without a thread hop per call.

aiosqlite runs every call (cursor, execute, fetch, close) in a worker thread: 18 hand-offs
for one report, each far dearer than the statement, most of the report's time
(docs/PERFORMANCE.md).
A SQLite statement itself takes microseconds, and inside a transaction opened with
`BEGIN IMMEDIATE` it never waits for another connection. So this driver runs statements
directly in the event loop and sends to a worker thread only what can wait: `COMMIT` (the
fsync, and WAL checkpoints) and a `BEGIN …` that finds another process holding the write lock
(it is first tried at once, with no busy wait; only if that fails does it wait, up to
`busy_timeout`, in the thread). Reads in WAL mode never wait for writers.

It has the shape of `aiosqlite.Connection` that SQLAlchemy's `sqlite+aiosqlite` dialect
expects, and is plugged in with `create_async_engine(..., async_creator=...)`; errors are
`sqlite3`'s own classes, which aiosqlite re-exports, so the dialect maps them as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Self

# Commits and BEGINs of every connection: they are serialised by the engine's writer gate,
# so one thread is enough; a second keeps a stuck BEGIN (another process) from delaying a
# commit of the other database a test may have open.
_WAITS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlite-wait")


def _head(sql: str) -> str:
    return sql.lstrip()[:6].upper()


class Cursor:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor = connection._live().cursor()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Self:
        call = partial(self._cursor.execute, sql, () if parameters is None else parameters)
        head = _head(sql)
        if head.startswith("BEGIN"):
            await self._connection._begin(call)
        elif head.startswith(("COMMIT", "END")):
            await self._connection._wait(call)
        else:
            call()
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Self:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            return self._cursor.fetchmany()
        return self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def nextset(self) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _InlineQueue:
    """SQLAlchemy sets `isolation_level` through aiosqlite's private queue: run it inline."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except BaseException as exc:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(exc)


class Connection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn: sqlite3.Connection | None = connection
        self._tx = _InlineQueue(connection)
        self._busy_timeout_ms = int(connection.execute("PRAGMA busy_timeout").fetchone()[0])
        self._changes_at_begin = -1  # no BEGIN seen yet: a commit syncs

    @property
    def _connection(self) -> sqlite3.Connection | None:  # what the dialect checks
        return self._conn

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    async def _wait(self, call: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(_WAITS, call)

    async def _begin(self, call: Callable[[], Any]) -> None:
        """BEGIN at once when no other process holds the write lock (the usual case: this
        process's writers queue before they get here); otherwise wait for it in a thread."""
        connection = self._live()
        self._changes_at_begin = connection.total_changes
        connection.execute("PRAGMA busy_timeout=0")
        try:
            call()
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        finally:
            connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        await self._wait(call)

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (see storage/prepared.py)."""
        return self._live()

    def cursor(self) -> Cursor:
        self._live()
        return Cursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        connection = self._live()
        if not connection.in_transaction:
            return
        if connection.total_changes == self._changes_at_begin:
            connection.commit()  # nothing written: nothing to sync, it cannot wait
        else:
            await self._wait(connection.commit)

    async def rollback(self) -> None:
        self._live().rollback()

    async def close(self) -> None:
        if self._conn is not None:
            connection, self._conn = self._conn, None
            connection.close()

    def stop(self) -> None:
        if self._conn is not None:
            connection, self._conn = self._conn, None
            connection.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._live().create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._live().isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._live().in_transaction


def connector(database: str, pragmas: Sequence[str]) -> Callable[[], Any]:
    """The `async_creator` for `database` (a path, a `file:` URI or ':memory:')."""

    async def connect() -> Connection:
        # isolation_level=None: the module must not open transactions behind SQLAlchemy's
        # back; the engine's "begin" hook opens them itself (BEGIN IMMEDIATE).
        connection = sqlite3.connect(
            database,
            isolation_level=None,
            check_same_thread=False,
            uri=database.startswith("file:"),
        )
        try:
            for pragma in pragmas:
                connection.execute(pragma)
        except BaseException:
            connection.close()
            raise
        return Connection(connection)

    return connect
