"""Engine, migrations and sessions: the only place that knows which database we talk to."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

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
SQLITE_GATE_WAIT = 5.0  # seconds a unit of work waits for this process's other writers


# PostgreSQL outages: a dead or unreachable server must cost an officer seconds, not minutes,
# and the pool must heal by itself once the server is back (no restart).
PG_CONNECT_TIMEOUT = 5  # seconds to open a connection (asyncpg's default is 60)
PG_COMMAND_TIMEOUT = 15  # seconds for one statement before the unit of work gives up
PG_POOL_TIMEOUT = 10  # seconds to wait for a free pooled connection
PG_POOL_SIZE = 20  # connections kept open (the server's default limit is 100)
PG_POOL_RECYCLE = 1800  # replace connections older than this (firewalls drop idle ones)
PG_PING_AFTER_IDLE = 10.0  # seconds idle after which a pooled connection is tested first
IDLE_SINCE = "idle_since"  # where a pooled connection's last check-in time is kept


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
        # (SQLAlchemy's default keeps 5), each a new server process (docs/PERFORMANCE.md).
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_POOL_SIZE,
        pool_recycle=PG_POOL_RECYCLE,
        pool_timeout=PG_POOL_TIMEOUT,
        connect_args={"timeout": PG_CONNECT_TIMEOUT, "command_timeout": PG_COMMAND_TIMEOUT},
    )

    # A connection that sat idle in the pool may have died (a server restart, a firewall):
    # the unit of work tests such a one before use and retries on a fresh one
    # (storage.uow.UnitOfWork). SQLAlchemy's pool_pre_ping tests every checkout instead, at
    # three round trips on asyncpg (BEGIN, a query, ROLLBACK): a third of a report's.
    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    return engine


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ":memory:"
    if database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Refused here, before aiosqlite starts its worker thread: a connection that fails
        # inside it may report from that thread after the event loop has closed.
        if path.exists() and not path.is_file():
            raise OSError(f"{database} is not a file")
        if not os.access(path if path.exists() else path.parent, os.R_OK | os.W_OK):
            raise OSError(f"{database}: no permission to read and write")
    # SQLAlchemy's default pool: this process's units of work queue at the writer gate
    # before they take a connection, so few are in use at once.
    engine = create_async_engine(url)

    # SQLAlchemy's documented recipe for SQLite transactions on sqlite3 and aiosqlite
    # ("Enabling Non-Legacy SQLite Transactional Modes", formerly "Serializable isolation /
    # Savepoints / Transactional DDL": https://docs.sqlalchemy.org/en/21/dialects/sqlite.html
    # #sqlite-transactions). The sqlite3 module's own transaction handling opens
    # transactions lazily and behind SQLAlchemy's back, which breaks SAVEPOINTs and lets
    # PRAGMAs land inside a transaction (where foreign_keys is ignored); so it is turned off
    # and SQLAlchemy's "begin" emits BEGIN itself.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads, then
        # writes after another one committed, fails at once with "database is locked"; an
        # immediate one waits (busy_timeout) for another process, and this process's own
        # units of work queue before they get here (storage.uow.UnitOfWork).
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return _postgres_engine(parsed)


_REVISION = re.compile(r"^(down_)?revision\b[^=]*=\s*(?:\"(\w+)\"|None)", re.MULTILINE)


def head_revision() -> str:
    """The newest migration's revision, read from the files' `revision` and `down_revision`
    lines without importing alembic, which is slow to import and large (docs/PERFORMANCE.md)."""
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


# The advisory lock every process takes before it looks at the schema on PostgreSQL: one
# process migrates, the others wait for its commit and then find the schema current. Any
# constant will do as long as nothing else in the database uses it ("migr" in ASCII).
MIGRATION_LOCK = 0x6D696772


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there.

    Safe when several processes start at once on one database. PostgreSQL: the transaction
    first takes a transaction-level advisory lock (`pg_advisory_xact_lock`), released by its
    commit or rollback, so a second process waits, then reads the head revision and does
    nothing. SQLite needs no more: every transaction begins with BEGIN IMMEDIATE
    (`_sqlite_engine`), which already makes a second process wait (busy_timeout) for the
    first one's commit before it reads the revision."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        await connection.run_sync(_upgrade)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # A unit of work may keep working after commit; expired rows would then need a reload,
    # and an implicit one is an error under asyncio.
    return async_sessionmaker(engine, expire_on_commit=False)
