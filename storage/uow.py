"""One unit of work per handled message: one session, one transaction, an explicit commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, migrate, session_factory
from storage.repositories import (
    AuditRepository,
    NudgeLog,
    OutgoingCounter,
    PendingRepository,
    PostLog,
    RegistrationRepository,
    SubmissionRepository,
    UpdateLog,
)


class UnitOfWork:
    """Nothing is stored unless `commit()` is awaited before the block ends."""

    submissions: SubmissionRepository
    registrations: RegistrationRepository
    pending: PendingRepository
    audit: AuditRepository
    updates: UpdateLog
    outgoing: OutgoingCounter

    posts: PostLog
    nudges: NudgeLog

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        session = self._session = self._sessions()
        self.submissions = SubmissionRepository(session)
        self.registrations = RegistrationRepository(session)
        self.pending = PendingRepository(session)
        self.audit = AuditRepository(session)
        self.updates = UpdateLog(session)
        self.outgoing = OutgoingCounter(session)

        self.posts = PostLog(session)
        self.nudges = NudgeLog(session)
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
            await session.close()

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

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._sessions)

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
