"""The scheduler in a running bot: APScheduler on the bot's event loop, one leader at a time.

Every process calls `start_scheduler`; only the one holding the PostgreSQL advisory lock
(`storage.leader`) runs jobs. The others poll for the lock and take over when the holder's
connection closes. Taking the lead (at start-up or on take-over) first runs the jobs missed
within the grace window (`catch_up`); the post log makes that safe to repeat.

A job some of whose posts a platform refused is run again every `RETRY_AFTER` while its grace
window is open (only the posts not yet made go); when the window closes with posts still not
made, the admins are told in private which ones, once (docs/RELIABILITY.md).
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
from handlers.notify import Delivered, Failure
from scheduler.jobs import attempt_job, planned, report_undelivered
from storage import Database
from storage.leader import LeaderLock

log = logging.getLogger(__name__)

# How far ahead date jobs are added to APScheduler; re-planned every REPLAN.
HORIZON = timedelta(days=8)
REPLAN = timedelta(hours=6)
# A failed post is tried again this long after, while the job's grace window is open.
RETRY_AFTER = timedelta(minutes=5)
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
    poll_seconds: float = 30.0
    realtime: bool = True  # add APScheduler date jobs (False: catch-up only, for tests)
    files_dir: Path | None = None  # where the digest's charts are drawn; None: no charts
    is_leader: bool = False
    posts_made: int = 0
    _lock: LeaderLock = field(init=False)
    _scheduler: AsyncIOScheduler = field(init=False)
    _watcher: asyncio.Task[None] | None = None
    _busy: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Jobs with posts a platform refused: the latest failures and when to try again.
    _failing: dict[str, tuple[Job, list[Failure]]] = field(default_factory=dict)
    _retry_at: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = LeaderLock(self.db.engine)
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
        await self.elect()
        self._watcher = asyncio.create_task(self._watch(), name="scheduler-leader-watch")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._scheduler.running:
            self._scheduler.remove_all_jobs()
            self._scheduler.shutdown(wait=False)
        self.is_leader = False
        await self._lock.release()

    async def elect(self) -> None:
        """Lead if the lock is free; step down if the lock's connection was lost."""
        if self.is_leader:
            if not await self._lock.alive():
                log.warning("scheduler: lost the lead")
                self.is_leader = False
                self._scheduler.remove_all_jobs()
            return
        if await self._lock.try_acquire():
            log.info("scheduler: this process runs the jobs")
            now = self.clock()
            await self.maintain(now)
            await self.catch_up(now)
            # Leader from here on: timed jobs may fire; the missed ones were made first.
            self.is_leader = True
            if self.realtime:
                await self._plan_ahead()
                self._scheduler.resume()

    async def maintain(self, now: datetime) -> Pruned | None:
        """The maintenance job: prune what is no longer needed. A failure is logged and
        left for the next run (nothing depends on it happening today)."""
        try:
            return await prune(self.catalogue, self.db, now)
        except Exception:
            log.exception("scheduler: maintenance failed; trying again at the next run")
            return None

    async def _maintain_now(self) -> None:
        if self.is_leader:
            await self.maintain(self.clock())

    async def catch_up(self, now: datetime) -> int:
        """Run the jobs of the grace window before `now` that have posts still to make.
        Only for the process holding the lock (`elect` calls it on taking the lead)."""
        start = now - self.catalogue.schedule.grace
        made = 0
        for job in planned(self.catalogue, start, now):
            made += await self._run(job, now)
        return made

    async def _run(self, job: Job, now: datetime) -> int:
        async with self._busy:  # one job at a time: posts keep their order
            self._retry_at.pop(job.id, None)
            try:
                delivered = await attempt_job(
                    self.catalogue, self.db, self.notifiers, job, now, self.files_dir
                )
                await self._follow_up(job, delivered, now)
            except Exception:
                log.exception("scheduler: job %s failed", job.id)
                return 0
        self.posts_made += delivered.made
        return delivered.made

    async def _follow_up(self, job: Job, delivered: Delivered, now: datetime) -> None:
        """Plan a retry of refused posts while the grace window is open; when it has closed
        (or the job is no longer worth running), tell the admins what never went out."""
        if delivered.failed:
            self._failing[job.id] = (job, delivered.failed)
            retry = now + RETRY_AFTER
            if retry <= job.at + self.catalogue.schedule.grace:
                log.warning(
                    "scheduler: %d post(s) of %s failed; trying again at %s",
                    len(delivered.failed),
                    job.id,
                    retry.isoformat(),
                )
                self._retry_at[job.id] = retry
                if self.realtime and self._scheduler.running:
                    self._scheduler.add_job(
                        self._fire,
                        "date",
                        run_date=retry,
                        args=[job],
                        id=f"retry:{job.id}",
                        replace_existing=True,
                    )
                return
        elif not delivered.skipped:
            self._failing.pop(job.id, None)  # everything went out in the end
            return
        failing = self._failing.pop(job.id, None)
        if failing is not None:
            await report_undelivered(self.catalogue, self.db, self.notifiers, job, failing[1], now)

    async def retry_due(self, now: datetime) -> int:
        """Run the retries due at `now` (APScheduler fires them itself in real time)."""
        made = 0
        for job_id, at in sorted(self._retry_at.items(), key=lambda item: item[1]):
            if at <= now and job_id in self._failing:
                made += await self._run(self._failing[job_id][0], now)
        return made

    def retries(self) -> dict[str, datetime]:
        """Job id -> when its refused posts are tried again."""
        return dict(self._retry_at)

    async def _fire(self, job: Job) -> None:
        if self.is_leader:
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
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.elect()
            except Exception:
                log.exception("scheduler: leader election failed; trying again")


async def start_scheduler(
    app: AppLike,
    notifiers: Sequence[Notifier],
    *,
    clock: Callable[[], datetime] = _wall_clock,
    poll_seconds: float = 30.0,
    realtime: bool = True,
    files_dir: Path | None = None,
) -> SchedulerHandle:
    """Start the scheduler on the running event loop; `await handle.stop()` at shutdown."""
    handle = SchedulerHandle(
        app.catalogue,
        app.db,
        notifiers,
        clock=clock,
        poll_seconds=poll_seconds,
        realtime=realtime,
        files_dir=files_dir,
    )
    await handle.start()
    return handle
