"""Leases: one holder at a time of a named role (running the scheduled jobs, polling a bot
token), with an expiry judged by the database's clock and a fencing token.

A lease is a row of `leases` (migration 0007): taken in one statement when it is free or
expired, its token then growing by one; renewed by its holder every few seconds under that
token; let go by setting its expiry to now. Nothing depends on a session staying open: a
holder whose connection was cut, or whose process froze or vanished, simply stops renewing,
and once the expiry passes (by the database's clock) another process takes the lease.

The holder fences itself twice. `fresh()` compares the process's monotonic clock with the
moment its last successful renewal was *sent*: once that is older than the TTL less a margin,
the lease may have expired in the database, and the holder must act as if it had (a process
waking up from a freeze, a network that stopped answering). `check_in(uow)` also asks the
database, in the transaction that makes the side effect that must not be made twice (the
scheduled posts enqueued), whether the lease is still its own under its token and unexpired.

Every statement runs under a time limit well inside the TTL (on PostgreSQL a small pool of
its own with asyncpg's connect `timeout` and `command_timeout`, and `asyncio.timeout` around
the whole unit of work), so a cut network cannot hold a renewal past the TTL. SQLite serves
one process; the same statements run there through the app's own units of work.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.db import session_factory
from storage.repositories import LeaseLog
from storage.uow import Database, UnitOfWork

log = logging.getLogger(__name__)

# Take-over after any failure of the holder within DEFAULT_TTL + DEFAULT_RENEW = 40 s.
DEFAULT_TTL = 30.0  # seconds a lease lives after its last renewal, by the database's clock
DEFAULT_RENEW = 10.0  # seconds between renewals (and between a follower's attempts)
OP_TIMEOUT = 5.0  # seconds at most for one lease statement (connecting included)

SCHEDULER = "scheduler"  # the lease of the process that runs the scheduled jobs

T = TypeVar("T")


class LostLead(Exception):
    """The lease is no longer (or may no longer be) this process's: stop what it guards."""


class LeaseUnavailable(Exception):
    """The database did not answer a lease statement in time (nothing is known)."""


def new_holder() -> str:
    """A name for one holder: host and process for people reading the table, and a random
    part so that two leases of one process (or a restarted pid) never pass for each other."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    def __init__(
        self,
        db: Database,
        name: str,
        *,
        ttl: float = DEFAULT_TTL,
        holder: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.ttl = ttl
        self.holder = holder or new_holder()
        self.token: int | None = None
        # The holder stops trusting its lease this long before the database lets it expire:
        # room for the clocks' rates to differ and for the step from the check to the act.
        self.margin = ttl / 6
        # Well inside the TTL; never under a second (a first connection does several trips).
        self.op_timeout = min(OP_TIMEOUT, max(ttl / 3, 1.0))
        self._monotonic = monotonic
        self._renewed_at = 0.0  # monotonic time the last successful take or renewal was sent
        self._engine: AsyncEngine | None = None
        self._units: Callable[[], UnitOfWork] = db.unit_of_work
        if db.engine.dialect.name == "postgresql":
            self._engine = create_async_engine(
                db.engine.url,
                pool_size=2,
                max_overflow=0,
                pool_timeout=self.op_timeout,
                pool_pre_ping=True,  # a connection the server or the network ended is replaced
                connect_args={
                    "timeout": self.op_timeout,
                    "command_timeout": self.op_timeout,
                    # Shown in pg_stat_activity: which sessions serve which lease.
                    "server_settings": {"application_name": f"bot lease {name}"[:63]},
                },
            )
            sessions = session_factory(self._engine)
            self._units = lambda: UnitOfWork(sessions)

    @property
    def held(self) -> bool:
        """This process took the lease and has not seen it lost (see `fresh` too)."""
        return self.token is not None

    def fresh(self) -> bool:
        """Held, and the last successful renewal is recent enough that the lease cannot have
        expired in the database yet (the monotonic clock; a frozen process finds it stale)."""
        return self.held and self._monotonic() - self._renewed_at < self.ttl - self.margin

    async def acquire(self) -> bool:
        """Take the lease if free, expired or ours: True with a new token, False while
        another holder's lease lives. LeaseUnavailable when the database did not answer."""
        sent = self._monotonic()
        token = await self._run(lambda leases: leases.take(self.name, self.holder, self.ttl))
        self.token = token
        if token is None:
            return False
        self._renewed_at = sent
        return True

    async def renew(self) -> bool:
        """Extend the lease; False when it is lost (expired, or another holder took it).
        LeaseUnavailable when the database did not answer (the lease may still be ours)."""
        token = self.token
        if token is None:
            return False
        sent = self._monotonic()
        kept = await self._run(lambda leases: leases.renew(self.name, self.holder, token, self.ttl))
        if not kept:
            self.token = None
            return False
        self._renewed_at = sent
        return True

    async def check_in(self, uow: UnitOfWork) -> None:
        """Inside the caller's transaction (the one that enqueues the posts the lease
        guards): raise LostLead unless the lease is fresh and, by the database, still ours
        under our token and unexpired, so a stale holder's transaction adds nothing. A stale
        process clock is enough: the database is not even asked."""
        token = self.token
        if token is None or not self.fresh():
            raise LostLead(f"lease {self.name}: not renewed within {self.ttl - self.margin:g} s")
        if not await uow.leases.current(self.name, self.holder, token):
            self.token = None
            raise LostLead(f"lease {self.name}: expired or taken by another process")

    def forget(self) -> None:
        """Stop counting on the lease without telling the database (it may not answer)."""
        self.token = None

    async def release(self) -> None:
        """Let the lease go now, so that another process takes it at its next attempt."""
        token, self.token = self.token, None
        if token is not None:
            try:
                await self._run(lambda leases: leases.release(self.name, self.holder, token))
            except LeaseUnavailable:
                log.warning("lease %s: could not be released; it expires by itself", self.name)

    async def state(self) -> tuple[str, int, bool] | None:
        """(holder, token, live) as the database has it; None when never taken."""
        return await self._run(lambda leases: leases.state(self.name))

    async def expiry(self) -> tuple[str, int, str] | None:
        """(holder, token, expiry) as the database has it: changes with every renewal."""
        return await self._run(lambda leases: leases.expiry(self.name))

    async def close(self) -> None:
        await self.release()
        if self._engine is not None:
            await self._engine.dispose()

    async def _run(self, operation: Callable[[LeaseLog], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.op_timeout):
                async with self._units() as uow:
                    result = await operation(uow.leases)
                    await uow.commit()
                    return result
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            if self._engine is not None and isinstance(exc, TimeoutError):
                # A statement cut off half way leaves its connection unusable: start afresh.
                await self._engine.dispose()
            raise LeaseUnavailable(f"{type(exc).__name__}: {exc}".strip(": ")) from exc


async def acquire_unless_renewed(lease: Lease, every: float) -> bool:
    """Take the lease, waiting for it while its holder may be gone: True once taken, False as
    soon as its holder is seen renewing it (alive). A holder that died (a process killed and
    restarted at once) is waited for until its lease expires, at most the TTL; a live one
    renews within its renewal period and is told apart from a dead one then.
    LeaseUnavailable when the database does not answer."""
    first = None
    while not await lease.acquire():
        seen = await lease.expiry()
        if first is None:
            first = seen
        elif seen != first:  # renewed by a live holder (or let go just now: one more try)
            return await lease.acquire()
        await asyncio.sleep(every)
    return True


async def keep(lease: Lease, every: float, on_lost: Callable[[], None]) -> None:
    """Renew `lease` every `every` seconds until cancelled; when it turned out lost and
    cannot be taken back (another holder has it), call `on_lost` once and return. A database
    that does not answer is logged and tried again."""
    while True:
        await asyncio.sleep(every)
        try:
            if await lease.renew() or await lease.acquire():
                continue
        except LeaseUnavailable as exc:
            log.warning("lease %s: renewal failed (%s); trying again", lease.name, exc)
            continue
        log.error("lease %s: taken by another process", lease.name)
        on_lost()
        return
