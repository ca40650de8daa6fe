"""One fenced scheduler (issue 17): two SchedulerHandles on separate engines of one database,
as two processes. A leader whose database session ends keeps its lease (no second leader);
a leader that stopped renewing (a frozen process) is replaced once its lease expired by the
database's clock, and neither it nor a leader the database says lost its lease posts again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import text

from core.catalogue import Catalogue
from core.chat import Recipient, Reply
from core.schedule import Job, JobKind
from scheduler.jobs import planned
from scheduler.service import SchedulerHandle
from storage import Database
from tests.scheduler.simulated import at
from tests.scheduler.test_scheduler_service import Capture, Clock
from tests.storage.test_storage_lease import expire_now

MONDAY_0800 = at(2024, 11, 18, 8, 0)  # the 07:30 early reminders are due (caught up at start)
MONDAY_0930 = at(2024, 11, 18, 9, 30)  # the 09:00 last call is due


class Gated(Capture):
    """A platform whose first send hangs until the test lets it through."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def post(self, to: Recipient, message: Reply) -> bool:
        if not self.entered.is_set():
            self.entered.set()
            await self.gate.wait()
        return await super().post(to, message)


@pytest.fixture
async def other_db(database_url: str, db: Database) -> AsyncIterator[Database]:
    """The same database through another engine: a second process."""
    second = await Database.open(database_url)
    yield second
    await second.close()


def handle(
    catalogue: Catalogue, db: Database, notifier: Capture, clock: Clock, ttl: float = 30
) -> SchedulerHandle:
    return SchedulerHandle(
        catalogue,
        db,
        [notifier],
        clock=clock,
        poll_seconds=min(0.05, ttl / 3),
        lease_ttl=ttl,
        realtime=False,
    )


async def freeze(leader: SchedulerHandle) -> None:
    """The leader's process stops (SIGSTOP): nothing of it runs, so its lease is not renewed.
    The test calls its job trigger afterwards, as its APScheduler would on waking up."""
    assert leader._watcher is not None
    leader._watcher.cancel()
    await asyncio.gather(leader._watcher, return_exceptions=True)


async def wait_until(condition: object, what: str) -> None:
    for _ in range(600):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def last_call(catalogue: Catalogue, now: datetime) -> Job:
    [job] = [j for j in planned(catalogue, MONDAY_0800, now) if j.kind is JobKind.LAST_CALL]
    return job


async def rows_made(db: Database, job_id: str) -> int:
    async with db.engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM posts_made WHERE job_id = :job"), {"job": job_id}
        )
    return int(count or 0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_leader_whose_session_is_terminated_while_posting_stays_the_only_leader(
    catalogue: Catalogue, db: Database, other_db: Database
) -> None:
    clock = Clock(at(2024, 11, 18, 11, 30))  # the 11:00 digest is due
    leader_posts, follower_posts = Gated(), Capture()
    leader = handle(catalogue, db, leader_posts, clock)
    follower = handle(catalogue, other_db, follower_posts, clock)
    starting = asyncio.create_task(leader.start())  # catching up: the digest, held mid-send
    try:
        await asyncio.wait_for(leader_posts.entered.wait(), 30)
        # The lease's (formerly the advisory lock's) sessions end, as in a PostgreSQL
        # restart or pg_terminate_backend, while the leader is in the middle of the digest.
        async with other_db.engine.connect() as connection:
            ended = await connection.scalars(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND (application_name LIKE 'bot lease%' "
                    "OR pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory'))"
                )
            )
            assert any(ended.all())
        await follower.start()
        await asyncio.sleep(0.5)  # the follower tries again and again meanwhile
        leader_posts.gate.set()
        await asyncio.wait_for(starting, 30)
        await asyncio.sleep(0.5)
        sends = leader_posts.posts + follower_posts.posts
        assert len(sends) == len(set(sends))  # each post once
        assert len(leader_posts.starting("📊 TỔNG HỢP")) == 1
        assert follower_posts.posts == []
        assert leader.is_leader
        assert not follower.is_leader
        [job] = [j for j in planned(catalogue, MONDAY_0800, clock.now) if j.kind is JobKind.DIGEST]
        assert await rows_made(db, job.id) == len(leader_posts.posts)
    finally:
        leader_posts.gate.set()
        await follower.stop()
        await asyncio.gather(starting, return_exceptions=True)
        await leader.stop()


async def test_a_frozen_leader_is_replaced_after_the_ttl_and_posts_nothing_on_waking(
    catalogue: Catalogue, db: Database, other_db: Database
) -> None:
    clock = Clock(MONDAY_0800)
    leader_posts, follower_posts = Capture(), Capture()
    leader = handle(catalogue, db, leader_posts, clock, ttl=3)
    follower = handle(catalogue, other_db, follower_posts, clock, ttl=3)
    try:
        await leader.start()
        await follower.start()
        assert leader.is_leader
        early = len(leader_posts.posts)
        assert early > 0  # the 07:30 reminders, caught up
        before = await leader._lease.state()
        await asyncio.sleep(3.5)  # past the TTL: the leader renews, nobody takes over
        assert not follower.is_leader
        assert await leader._lease.state() == before

        await freeze(leader)
        await wait_until(lambda: follower.is_leader, "the follower takes over")
        assert before is not None
        state = await follower._lease.state()
        assert state == (follower._lease.holder, before[1] + 1, True)  # a new fencing token
        assert follower_posts.posts == []  # the 07:30 reminders were made: not again

        clock.now = MONDAY_0930
        await leader._fire(last_call(catalogue, clock.now))  # the frozen leader wakes up
        assert len(leader_posts.posts) == early  # nothing: it fenced itself
        assert not leader.is_leader
        await follower._fire(last_call(catalogue, clock.now))
        assert len(follower_posts.starting("⏰ Còn")) == 1
        assert await rows_made(db, last_call(catalogue, clock.now).id) == len(follower_posts.posts)
    finally:
        await follower.stop()
        await leader.stop()


async def test_a_leader_the_database_says_lost_its_lease_posts_nothing(
    catalogue: Catalogue, db: Database, other_db: Database
) -> None:
    clock = Clock(MONDAY_0800)
    leader_posts, follower_posts = Capture(), Capture()
    leader = handle(catalogue, db, leader_posts, clock)
    follower = handle(catalogue, other_db, follower_posts, clock)
    try:
        await leader.start()
        early = len(leader_posts.posts)
        await freeze(leader)  # no renewal will tell it either
        # By the database's clock the lease expired (the leader's own clock, 30 s TTL, says
        # it is fresh), and the follower takes it.
        await expire_now(db, "scheduler")
        await follower.elect()
        assert follower.is_leader
        assert leader._lease.fresh()

        clock.now = MONDAY_0930
        await leader._fire(last_call(catalogue, clock.now))
        assert len(leader_posts.posts) == early  # the database fence stopped it
        assert not leader.is_leader
        await follower._fire(last_call(catalogue, clock.now))
        assert len(follower_posts.starting("⏰ Còn")) == 1
        assert leader_posts.starting("⏰ Còn") == []
    finally:
        await follower.stop()
        await leader.stop()
