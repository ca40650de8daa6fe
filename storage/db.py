"""Engine, migrations and sessions: the only place that knows which database we talk to."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

from storage.prepared import SQLITE_KEY
from storage.sqlite_inline import connector

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_ACCEPTED = (
    "expected sqlite:///path/to/file.db, sqlite:// (in memory) "
    "or postgresql://user@host/db (postgres:// and +aiosqlite/+asyncpg also accepted)"
)
_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL, not WAL's usual NORMAL: a committed report must survive a power cut.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)
SQLITE_POOL_SIZE = 32  # connections kept open (see create_engine)
SQLITE_GATE_WAIT = 5.0  # seconds a unit of work waits for this process's other writers


# PostgreSQL outages: a dead or unreachable server must cost an officer seconds, not minutes,
# and the pool must heal by itself once the server is back (no restart).
PG_CONNECT_TIMEOUT = 5  # seconds to open a connection (asyncpg's default is 60)
PG_COMMAND_TIMEOUT = 15  # seconds for one statement before the unit of work gives up
PG_POOL_TIMEOUT = 10  # seconds to wait for a free pooled connection
PG_POOL_SIZE = 20  # connections kept open (the server's default limit is 100)
PG_POOL_RECYCLE = 1800  # replace connections older than this (firewalls drop idle ones)
PG_PING_AFTER_IDLE = 10.0  # seconds idle after which a pooled connection is tested first


def normalize_url(url: str) -> str:
    """Map a user-facing database URL to the async driver we use for it."""
    scheme, sep, rest = url.strip().partition("://")
    driver = _SCHEMES.get(scheme.lower())
    if not sep or driver is None:
        raise ValueError(f"unsupported database URL: {_ACCEPTED}")
    normalized = f"{driver}://{rest}"
    try:
        make_url(normalized)  # a bad port or host fails here, not as a traceback later
    except ArgumentError:
        # SQLAlchemy's message repeats the URL, password included.
        raise ValueError("cannot parse the database URL") from None
    except ValueError as exc:  # a port that is not a number: the message shows only the port
        raise ValueError(f"cannot parse the database URL ({exc})") from None
    return normalized


def _postgres_engine(url: URL) -> AsyncEngine:
    engine = create_async_engine(
        url,
        # Kept open: 20 messages at once used to open and close 5–10 connections each time
        # (SQLAlchemy's default keeps 5), ≈ 10 ms each (bench reply_p95_ms_postgres).
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_POOL_SIZE,
        pool_recycle=PG_POOL_RECYCLE,
        pool_timeout=PG_POOL_TIMEOUT,
        connect_args={"timeout": PG_CONNECT_TIMEOUT, "command_timeout": PG_COMMAND_TIMEOUT},
    )

    # A pooled connection is tested before use when it has been idle for a while: after an
    # outage or a server restart the dead ones are replaced instead of failing the next
    # message. SQLAlchemy's pool_pre_ping did this on every checkout, at three round trips
    # on asyncpg (BEGIN, a query, ROLLBACK): a third of a report's round trips (bench
    # ingest_postgres). One that was in use a moment ago is taken as it is; if it died in
    # between, that one message is answered "not saved", and the error makes the pool
    # replace all its connections.
    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")  # None: connected just now
        if idle_since is None or time.monotonic() - idle_since < PG_PING_AFTER_IDLE:
            return
        driver = record.driver_connection
        assert driver is not None  # a pooled entry being checked out is connected
        try:
            await_only(driver.execute(";"))  # one round trip
        except Exception as exc:
            raise DisconnectionError("the pooled connection is dead") from exc  # pool retries

    return engine


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return _postgres_engine(parsed)
    database = parsed.database or ":memory:"
    pool: dict[str, int] = {}
    if database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Units of work hold a connection while they queue at the writer gate below; with the
        # default 5 + 10 overflow, 20 simultaneous messages opened and closed ten connections
        # each time (PRAGMAs and the schema read again). Idle connections cost little.
        pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
    # Statements run in the event loop; only BEGIN and COMMIT may wait, in a thread (see
    # storage/sqlite_inline.py). The connector also turns off the sqlite3 module's own
    # transaction handling, which opens transactions lazily and behind SQLAlchemy's back (that
    # breaks SAVEPOINTs and lets PRAGMAs land inside a transaction, where foreign_keys is
    # ignored): the "begin" hook below opens them itself.
    engine = create_async_engine(parsed, async_creator=connector(database, _SQLITE_PRAGMAS), **pool)

    # One writer at a time. Within this process writers queue on an asyncio lock, each woken
    # the moment the one before it ends; SQLite's own busy handler polls with sleeps of up to
    # 100 ms, which made 20 simultaneous reports wait up to a second (bench reply_p95_ms).
    # busy_timeout still covers another process (a backup, the CLI) holding the lock.
    gate = asyncio.Lock()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so concurrent units of work queue. A
        # deferred transaction that reads, then writes after another one committed, fails at
        # once with "database is locked" instead. Hence: never nest units of work on SQLite
        # (the inner one waits for the outer one and gives up after SQLITE_GATE_WAIT).
        if gate.locked():
            await_only(asyncio.wait_for(gate.acquire(), SQLITE_GATE_WAIT))
        else:  # the usual case: taken at once, without wait_for's task and timer
            await_only(gate.acquire())
        connection.info["gate"] = True
        try:
            # Straight to the driver: SQLAlchemy's statement machinery is not needed for it.
            driver = connection.connection.driver_connection
            assert driver is not None  # a connection in use has its driver connection
            await_only(driver.execute("BEGIN IMMEDIATE"))
            # For the statements that skip SQLAlchemy's execution (storage/prepared.py).
            connection.info[SQLITE_KEY] = driver.sqlite
        except sqlite3.Error as exc:  # "database is locked": as SQLAlchemy would raise it
            _release(connection)
            raise DBAPIError.instance("BEGIN IMMEDIATE", (), exc, sqlite3.Error) from exc
        except BaseException:
            _release(connection)
            raise

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _release(connection: Connection) -> None:
        if connection.info.pop("gate", False):
            gate.release()

    return engine


_REVISION = re.compile(r"^(down_)?revision\b[^=]*=\s*(?:\"(\w+)\"|None)", re.MULTILINE)


def head_revision() -> str:
    """The newest migration's revision, read from the files' `revision` and `down_revision`
    lines without importing alembic (≈100 ms and several MB at every start)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, name in _REVISION.findall(path.read_text(encoding="utf-8")):
            if name:
                (parents if down else revisions).add(name)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations: expected one head, found {sorted(heads)}")
    return heads.pop()


def _current_revision(connection: Connection) -> str | None:
    """The schema's revision in one cheap query (None: no schema yet, or not readable)."""
    try:
        with connection.begin_nested():
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None
    return rows[0][0] if len(rows) == 1 else None


def _upgrade(connection: Connection) -> None:
    if _current_revision(connection) == head_revision():
        return  # the usual restart: alembic is not even imported
    from alembic import command
    from alembic.config import Config

    config = Config()
    # configparser interpolates '%', which may appear in a checkout's path.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # A unit of work may keep working after commit; expired rows would then need a reload,
    # and an implicit one is an error under asyncio.
    return async_sessionmaker(engine, expire_on_commit=False)
