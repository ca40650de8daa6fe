"""Leases (storage/lease.py): one holder at a time, expiry by the database's clock, a fencing
token that grows with every new holder, a holder that fences itself, and statements that
cannot hang past the TTL. On SQLite and PostgreSQL, each lease on an engine of its own as in
two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from storage import Database
from storage.lease import Lease, LeaseUnavailable, LostLead, acquire_unless_renewed, keep


class Monotonic:
    """A process's monotonic clock that the test moves (a freeze is a jump forward)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def other_db(database_url: str, db: Database) -> AsyncIterator[Database]:
    """The same database through another engine: a second process."""
    second = await Database.open(database_url)
    yield second
    await second.close()


async def expire_now(db: Database, name: str) -> None:
    """Move the lease's expiry into the past, as the database's clock passing it would."""
    past = (
        "now() - interval '1 second'"
        if db.engine.dialect.name == "postgresql"
        else "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 seconds')"
    )
    async with db.engine.begin() as connection:
        await connection.execute(
            text(f"UPDATE leases SET expires_at = {past} WHERE name = :name"), {"name": name}
        )


async def checked(lease: Lease, db: Database) -> None:
    """`Lease.check_in` in a transaction of its own, as the scheduler's enqueueing one."""
    async with db.unit_of_work() as uow:
        await lease.check_in(uow)


async def test_one_holder_until_the_database_says_the_lease_expired(
    db: Database, other_db: Database
) -> None:
    first = Lease(db, "scheduler", ttl=30, holder="first")
    second = Lease(other_db, "scheduler", ttl=30, holder="second")
    try:
        assert await first.acquire()
        assert first.token == 1
        assert not await second.acquire()  # live: refused, whatever the second's clock says
        assert await first.renew()
        await checked(first, db)  # still ours by the database
        assert await second.state() == ("first", 1, True)

        await expire_now(db, "scheduler")  # the first stopped renewing; the expiry passed
        assert await second.acquire()
        assert second.token == 2  # a new fencing token
        assert await second.state() == ("second", 2, True)
        # The first's process clock has not moved: only the database knows it lost.
        assert first.fresh()
        with pytest.raises(LostLead):
            await checked(first, db)
        assert not first.held
        assert not await first.renew()
        await checked(second, other_db)
    finally:
        await first.close()
        await second.close()


async def test_a_late_renewal_of_a_lease_taken_over_fails(db: Database, other_db: Database) -> None:
    first = Lease(db, "scheduler", ttl=30, holder="first")
    second = Lease(other_db, "scheduler", ttl=30, holder="second")
    try:
        assert await first.acquire()
        await expire_now(db, "scheduler")
        assert await second.acquire()
        assert not await first.renew()  # the token changed: the first is told it lost
        assert await second.state() == ("second", 2, True)  # and the second's lease stands
        assert not await first.acquire()  # nor can it take the live lease back
    finally:
        await first.close()
        await second.close()


async def test_an_expired_lease_nobody_took_is_not_renewed_but_taken_again(db: Database) -> None:
    lease = Lease(db, "scheduler", ttl=30, holder="only")
    try:
        assert await lease.acquire()
        await expire_now(db, "scheduler")
        assert not await lease.renew()
        assert await lease.acquire()
        assert lease.token == 2  # a new token: checks under the old one fail
    finally:
        await lease.close()


async def test_a_frozen_holder_fences_itself_before_the_ttl(db: Database) -> None:
    clock = Monotonic()
    lease = Lease(db, "scheduler", ttl=30, holder="frozen", monotonic=clock)
    try:
        assert await lease.acquire()
        clock.now += 30 - lease.margin - 0.5
        assert lease.fresh()
        await checked(lease, db)
        clock.now += 1  # slept (SIGSTOP) past TTL minus the margin since the last renewal
        assert not lease.fresh()
        with pytest.raises(LostLead):
            await checked(lease, db)  # not even asked of the database: the lease may be gone
        assert await lease.renew()  # the database still has it: renewed, fresh again
        assert lease.fresh()
    finally:
        await lease.close()


async def test_release_lets_another_take_the_lease_at_once(
    db: Database, other_db: Database
) -> None:
    first = Lease(db, "poll:telegram:abc", ttl=30, holder="first")
    second = Lease(other_db, "poll:telegram:abc", ttl=30, holder="second")
    other_name = Lease(other_db, "poll:zalo:abc", ttl=30, holder="second")
    try:
        assert await first.acquire()
        assert await other_name.acquire()  # leases of other names are independent
        await first.release()
        assert not first.held
        assert await second.acquire()
        assert await second.state() == ("second", 2, True)
    finally:
        await first.close()
        await second.close()
        await other_name.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_lease_outlives_its_sessions_and_a_blocked_statement_times_out(
    db: Database,
) -> None:
    lease = Lease(db, "scheduler", ttl=1.5, holder="leader")
    try:
        assert await lease.acquire()
        async with db.engine.connect() as connection:
            ended = await connection.scalars(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() "
                    "AND application_name = 'bot lease scheduler'"
                )
            )
            assert any(ended.all())
        assert await lease.renew()  # a fresh session: the lease lives in a row, not a session
        # A renewal that cannot finish (the row locked, as by a hung network) gives up
        # within the lease's statement limit, well inside the TTL, instead of hanging.
        async with db.engine.connect() as blocker:
            await blocker.execute(text("SELECT 1 FROM leases WHERE name = 'scheduler' FOR UPDATE"))
            with pytest.raises(LeaseUnavailable):
                await asyncio.wait_for(lease.renew(), 30)
            await blocker.rollback()
        assert lease.held  # not known to be lost: the next renewal decides
        assert await lease.renew()
    finally:
        await lease.close()


async def test_a_newcomer_waits_for_a_dead_holder_and_gives_way_to_a_live_one(
    db: Database, other_db: Database
) -> None:
    live = Lease(db, "poll:telegram:abc", ttl=30, holder="live")
    newcomer = Lease(other_db, "poll:telegram:abc", ttl=30, holder="newcomer")
    try:
        assert await live.acquire()
        renewing = asyncio.create_task(keep(live, 0.1, lambda: None))
        # Seen renewed: its holder is alive.
        assert not await asyncio.wait_for(acquire_unless_renewed(newcomer, 0.05), 30)
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)

        # The holder dies (nothing renews any more): the newcomer waits for the expiry.
        dead = Lease(db, "poll:zalo:abc", ttl=2, holder="dead")
        assert await dead.acquire()
        dead.forget()
        waiting = Lease(other_db, "poll:zalo:abc", ttl=30, holder="waiting")
        assert await asyncio.wait_for(acquire_unless_renewed(waiting, 0.05), 30)
        assert await waiting.state() == ("waiting", 2, True)
        await waiting.close()
        await dead.close()
    finally:
        await live.close()
        await newcomer.close()
