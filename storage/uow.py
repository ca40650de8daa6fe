"""One unit of work per handled message: one session, one transaction, an explicit commit."""

from __future__ import annotations

import asyncio
import os
import time
from types import TracebackType
from typing import Any, Self

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.closing import CorrectionRepository, WeekApprovals
from storage.db import (
    IDLE_SINCE,
    PG_PING_AFTER_IDLE,
    SQLITE_GATE_WAIT,
    create_engine,
    migrate,
    session_factory,
)
from storage.flood import FloodSenders
from storage.inbox import Inbox
from storage.outbox import Outbox
from storage.repositories import (
    AuditRepository,
    ChatMoves,
    FormDrafts,
    LeaseLog,
    MediaFiles,
    NudgeLog,
    OutgoingCounter,
    PendingImports,
    PendingRepository,
    PostLog,
    RegistrationRepository,
    SubmissionRepository,
    UnreachablePeople,
    UpdateLog,
)
from storage.send_windows import SharedSendWindows

HEALTH_TIMEOUT = 2.0  # seconds the health check waits for the database


class WriterGate:
    """One SQLite unit of work at a time in this process.

    Every SQLite transaction begins with BEGIN IMMEDIATE (storage/db.py), so two at once
    would meet in SQLite's busy handler, which polls with sleeps of up to 100 ms; here they
    queue on an asyncio lock instead, each woken the moment the one before it ends.
    busy_timeout still covers another process (a backup, the CLI) holding the lock.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    async def enter(self) -> None:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            # Waiting would mean waiting for itself.
            raise RuntimeError(
                "units of work cannot be nested on SQLite: end this task's open one first"
            )
        try:
            async with asyncio.timeout(SQLITE_GATE_WAIT):
                await self._lock.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"SQLite: waited {SQLITE_GATE_WAIT:g} s for this process's other units of work"
            ) from None
        self._holder = task

    def leave(self) -> None:
        self._holder = None
        self._lock.release()


class UnitOfWork:
    """Nothing is stored unless `commit()` is awaited before the block ends. Keep it short
    and never open one inside another: on SQLite, units of work run one at a time
    (WriterGate)."""

    submissions: SubmissionRepository
    registrations: RegistrationRepository
    pending: PendingRepository
    imports: PendingImports
    audit: AuditRepository
    updates: UpdateLog
    outgoing: OutgoingCounter

    posts: PostLog
    nudges: NudgeLog
    chat_moves: ChatMoves
    unreachable: UnreachablePeople
    media: MediaFiles
    drafts: FormDrafts
    corrections: CorrectionRepository
    weeks: WeekApprovals
    leases: LeaseLog
    outbox: Outbox
    inbox: Inbox
    flood: FloodSenders

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gate: WriterGate | None = None,
        ping_idle: bool = False,
    ) -> None:
        self._sessions = sessions
        self._gate = gate
        self._ping_idle = ping_idle
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        if self._gate is not None:
            await self._gate.enter()  # before the session takes a connection
        session = self._session = self._sessions()
        if self._ping_idle:
            session = self._session = await self._live(session)
        self.submissions = SubmissionRepository(session)
        self.registrations = RegistrationRepository(session)
        self.pending = PendingRepository(session)
        self.imports = PendingImports(session)
        self.audit = AuditRepository(session)
        self.updates = UpdateLog(session)
        self.outgoing = OutgoingCounter(session)

        self.posts = PostLog(session)
        self.nudges = NudgeLog(session)
        self.chat_moves = ChatMoves(session)
        self.unreachable = UnreachablePeople(session)
        self.media = MediaFiles(session)
        self.drafts = FormDrafts(session)
        self.corrections = CorrectionRepository(session)
        self.weeks = WeekApprovals(session)
        self.leases = LeaseLog(session)
        self.outbox = Outbox(session)
        self.inbox = Inbox(session)
        self.flood = FloodSenders(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._require()
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            try:
                await session.close()
            finally:
                if self._gate is not None:
                    self._gate.leave()

    async def _live(self, session: AsyncSession) -> AsyncSession:
        """The session on a connection that answers. One that sat idle in the pool for a
        while is tested with one statement in the transaction the unit of work opens anyway;
        if it died (a server restart), the error makes the pool drop every connection as old
        as it, and the unit of work goes on with a fresh one: no message pays for it."""
        connection = await session.connection()
        pooled = await connection.get_raw_connection()
        idle_since = pooled.info.get(IDLE_SINCE)  # None: connected just now
        if idle_since is None or time.monotonic() - idle_since < PG_PING_AFTER_IDLE:
            return session
        try:
            await connection.exec_driver_sql("SELECT 1")
            return session
        except DBAPIError as exc:
            await session.close()
            if not exc.connection_invalidated:
                raise
        return self._sessions()

    def _require(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._session

    async def commit(self) -> None:
        session = self._require()
        if session.in_transaction():  # committed already, or nothing done: nothing to do
            await session.commit()

    async def rollback(self) -> None:
        await self._require().rollback()


class Database:
    """The app's handle on storage: `db = await Database.open(url)`, then units of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)
        # PostgreSQL needs no gate: its writers lock rows, not the whole database.
        self._gate = WriterGate() if engine.dialect.name == "sqlite" else None
        self._postgres = engine.dialect.name == "postgresql"

    @classmethod
    async def open(cls, url: str) -> Database:
        """Connect and migrate to the newest schema."""
        engine = create_engine(url)
        try:
            await migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    async def check(self) -> str | None:
        """None when the database can be used, else a short reason (for a health check).

        PostgreSQL: `SELECT 1` must answer within HEALTH_TIMEOUT; a pooled connection the
        server dropped is replaced once. SQLite: the file must be there, readable and
        writable. A query would prove nothing (an open connection keeps answering on a file
        deleted under it) and would queue behind the write lock (BEGIN IMMEDIATE)."""
        if not self._postgres:
            database = self.engine.url.database or ""
            if database in ("", ":memory:") or database.startswith("file:"):
                return None
            if not os.access(database, os.R_OK | os.W_OK):
                return "database file missing or not readable and writable"
            return None
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                for attempt in (1, 2):
                    try:
                        async with self.engine.connect() as connection:
                            await connection.exec_driver_sql("SELECT 1")
                        return None
                    except DBAPIError as exc:
                        if attempt == 2 or not exc.connection_invalidated:
                            raise
        except TimeoutError:
            return f"database did not answer within {HEALTH_TIMEOUT:g} s"
        except (SQLAlchemyError, OSError) as exc:
            return f"database unreachable ({type(getattr(exc, 'orig', None) or exc).__name__})"
        return None

    def send_windows(self) -> SharedSendWindows | None:
        """Send windows shared by every worker (PostgreSQL); None on SQLite, which serves
        one process: its senders keep their windows in memory."""
        if not self._postgres:
            return None
        return SharedSendWindows(self.engine)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._gate, ping_idle=self._postgres)

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
