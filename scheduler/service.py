"""The scheduler in a running bot: APScheduler on the bot's event loop, one leader at a time.

Every process calls `start_scheduler`; only the one holding the scheduler's lease
(`storage.lease`, a row with an expiry judged by the database's clock and a fencing token)
runs jobs. The leader renews the lease every `poll_seconds`; the others try to take it as
often and take over once it expired (a leader that stopped, died, froze or lost the
network): within TTL + `poll_seconds` (40 s by default). Taking the lead (at start-up or on
take-over) first runs the jobs missed within the grace window (`catch_up`); the post log
makes that safe to repeat.

A leader fences itself: once its last successful renewal is older than the TTL less a
margin (the monotonic clock: a frozen process finds it so on waking up) it steps down before
doing anything else, and before each post it checks in the database that the lease is still
its own under its token, in the transaction that enqueues the posts (`Lease.check_in`); a
failed check ends the job run (`LostLead`) with nothing enqueued, and it steps down.
SQLite serves one process: the same lease, which it always gets.

Jobs only compose and enqueue: their posts go to the outbox in the transaction that checks
the lease (`Lease.check_in`), and the outbox (`handlers.outbox`) sends them, retries a refused
one with a backoff while the job's grace window is open and tells the admins once when it
closes (docs/RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.catalogue import Catalogue
from core.chat import Notifier
from core.schedule import Job
from handlers.maintenance import Pruned, prune
from handlers.outbox import OutboxRunner
from scheduler.jobs import attempt_job, planned
from storage import Database
from storage.lease import DEFAULT_RENEW, DEFAULT_TTL, SCHEDULER, Lease, LeaseUnavailable, LostLead
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# How far ahead date jobs are added to APScheduler; re-planned every REPLAN.
HORIZON = timedelta(days=8)
REPLAN = timedelta(hours=6)
# The maintenance job (pruning old update keys and requests) runs on taking the lead and then
# this often.
MAINTENANCE_EVERY = timedelta(days=1)


class AppLike(Protocol):
    catalogue: Catalogue
    db: Database


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class SchedulerHandle:
    catalogue: Catalogue
    db: Database
    notifiers: Sequence[Notifier]
    clock: Callable[[], datetime] = _wall_clock
    poll_seconds: float = DEFAULT_RENEW  # between renewals (a follower: between attempts)
    lease_ttl: float = DEFAULT_TTL
    realtime: bool = True  # add APScheduler date jobs (False: catch-up only, for tests)
    files_dir: Path | None = None  # where the digest's charts are drawn; None: no charts
    # Sends what the jobs enqueue; None: one that drains in this task, in order.
    outbox: OutboxRunner | None = None
    is_leader: bool = False
    posts_made: int = 0  # posts this process drained itself (none when Procrastinate drains)
    _lease: Lease = field(init=False)
    _scheduler: AsyncIOScheduler = field(init=False)
    _watcher: asyncio.Task[None] | None = None
    # Taking the lead (maintenance and catch-up), each in a task of its own.
    _leading: set[asyncio.Task[None]] = field(default_factory=set)
    _busy: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.outbox is None:
            self.outbox = OutboxRunner(self.catalogue, self.db, self.notifiers, clock=self.clock)
        self._lease = Lease(self.db, SCHEDULER, ttl=self.lease_ttl)
        schedule = self.catalogue.schedule
        self._scheduler = AsyncIOScheduler(
            timezone=self.catalogue.calendar.tz,
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": int(schedule.grace.total_seconds()),
                "max_instances": 1,
            },
        )

    async def start(self) -> None:
        self._scheduler.start(paused=True)
        took = await self._elect()
        self._watcher = asyncio.create_task(self._watch(), name="scheduler-lease")
        if took:  # the missed jobs are made before start returns; renewals go on meanwhile
            await self._take_lead()

    async def stop(self) -> None:
        for task in (self._watcher, *self._leading):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watcher = None
        self._leading.clear()
        if self._scheduler.running:
            self._scheduler.remove_all_jobs()
            self._scheduler.shutdown(wait=False)
        self.is_leader = False
        await self._lease.close()  # let the lease go: a follower takes over at once

    async def elect(self) -> None:
        """One round of the election: renew the lease (stepping down if it was lost), or try
        to take it and then lead (the missed jobs first)."""
        if await self._elect():
            await self._take_lead()

    async def _elect(self) -> bool:
        """Renew or try to take the lease; True when it was just taken."""
        if self._lease.held:
            try:
                kept = await self._lease.renew()
            except LeaseUnavailable as exc:
                log.warning("scheduler: lease renewal failed (%s)", exc)
                kept = self._lease.fresh()  # ours until the self-fence says otherwise
            if not kept:
                self._step_down("the lease was not renewed in time or was taken over")
            return False
        try:
            return await self._lease.acquire()
        except LeaseUnavailable as exc:
            log.warning("scheduler: cannot reach the database to take the lease (%s)", exc)
            return False

    async def _take_lead(self) -> None:
        log.info("scheduler: this process runs the jobs (lease token %s)", self._lease.token)
        now = self.clock()
        await self.maintain(now)
        await self.catch_up(now)
        if not self._lease.fresh():  # lost while catching up
            self._step_down("the lease was lost while catching up")
            return
        # Leader from here on: timed jobs may fire; the missed ones were made first.
        self.is_leader = True
        if self.realtime:
            await self._plan_ahead()
            self._scheduler.resume()

    def _step_down(self, why: str) -> None:
        """Stop leading at once: no timed job fires; another process's turn."""
        if self._lease.held or self.is_leader:
            log.warning("scheduler: lost the lead: %s", why)
        self._lease.forget()
        self.is_leader = False
        if self._scheduler.running:
            self._scheduler.remove_all_jobs()
            self._scheduler.pause()

    def _still_leading(self) -> bool:
        """The self-fence: leading, and the lease renewed recently enough."""
        if self.is_leader and not self._lease.fresh():
            self._step_down("not renewed in time (frozen, or the database out of reach)")
        return self.is_leader

    async def _guard(self, uow: UnitOfWork) -> None:
        """In the transaction that enqueues a job's posts: the lease is still ours by the
        database, under our token and unexpired (raises LostLead: nothing is enqueued)."""
        await self._lease.check_in(uow)

    async def maintain(self, now: datetime) -> Pruned | None:
        """The maintenance job: prune what is no longer needed. A failure is logged and
        left for the next run (nothing depends on it happening today)."""
        try:
            return await prune(self.catalogue, self.db, now)
        except Exception:
            log.exception("scheduler: maintenance failed; trying again at the next run")
            return None

    async def _maintain_now(self) -> None:
        if self._still_leading():
            await self.maintain(self.clock())

    async def catch_up(self, now: datetime) -> int:
        """Run the jobs of the grace window before `now` that have posts still to make.
        Only for the process holding the lease (`elect` calls it on taking the lead)."""
        start = now - self.catalogue.schedule.grace
        made = 0
        for job in planned(self.catalogue, start, now):
            if not self._lease.held:  # stepped down (fenced): the next leader catches up
                break
            made += await self._run(job, now)
        return made

    async def _run(self, job: Job, now: datetime) -> int:
        async with self._busy:  # one job at a time: posts are enqueued in order
            try:
                delivered = await attempt_job(
                    self.catalogue,
                    self.db,
                    self.notifiers,
                    job,
                    now,
                    self.files_dir,
                    self._guard,
                    self.outbox,
                )
            except LostLead as exc:
                self._step_down(f"job {job.id} stopped: {exc}")
                return 0
            except Exception:
                log.exception("scheduler: job %s failed", job.id)
                return 0
        self.posts_made += delivered.made
        return delivered.made

    async def retry_due(self, now: datetime) -> int:
        """Drain the outbox's chats whose rows are due at `now` (a backoff over); the running
        bot's outbox runner does this by itself."""
        assert self.outbox is not None
        made = (await self.outbox.drain_due(now)).made
        self.posts_made += made
        return made

    async def retries(self) -> dict[str, datetime]:
        """Chat -> when its oldest post still to send is tried again."""
        async with self.db.unit_of_work() as uow:
            return await uow.outbox.waiting()

    async def _fire(self, job: Job) -> None:
        if self._still_leading():
            await self._run(job, self.clock())

    async def _plan_ahead(self) -> None:
        now = self.clock()
        for job in planned(self.catalogue, now, now + HORIZON):
            self._scheduler.add_job(
                self._fire,
                "date",
                run_date=job.at,
                args=[job],
                id=job.id,
                replace_existing=True,
            )
        self._scheduler.add_job(
            self._plan_ahead,
            "interval",
            seconds=int(REPLAN.total_seconds()),
            id="plan",
            replace_existing=True,
        )
        self._scheduler.add_job(
            self._maintain_now,
            "interval",
            seconds=int(MAINTENANCE_EVERY.total_seconds()),
            id="maintenance",
            replace_existing=True,
        )

    def job_ids(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    async def _watch(self) -> None:
        """Renew or take the lease every `poll_seconds`, never held up by a job: taking the
        lead (a catch-up may take minutes) runs in a task of its own."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                if await self._elect():
                    task = asyncio.create_task(self._take_lead(), name="scheduler-lead")
                    self._leading.add(task)
                    task.add_done_callback(self._leading.discard)
            except Exception:
                log.exception("scheduler: leader election failed; trying again")


async def start_scheduler(
    app: AppLike,
    notifiers: Sequence[Notifier],
    *,
    clock: Callable[[], datetime] = _wall_clock,
    poll_seconds: float = DEFAULT_RENEW,
    lease_ttl: float = DEFAULT_TTL,
    realtime: bool = True,
    files_dir: Path | None = None,
    outbox: OutboxRunner | None = None,
) -> SchedulerHandle:
    """Start the scheduler on the running event loop; `await handle.stop()` at shutdown."""
    handle = SchedulerHandle(
        app.catalogue,
        app.db,
        notifiers,
        clock=clock,
        poll_seconds=poll_seconds,
        lease_ttl=lease_ttl,
        realtime=realtime,
        files_dir=files_dir,
        outbox=outbox,
    )
    await handle.start()
    return handle
