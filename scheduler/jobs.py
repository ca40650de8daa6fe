"""Running one planned job: compose its posts and enqueue each exactly once (the outbox).

`run_job` is what the APScheduler trigger calls at the job's time and what the simulator's
virtual clock calls at the job's virtual time; it never reads the wall clock itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from core.catalogue import Catalogue
from core.chat import Notifier
from core.schedule import REMINDERS, Job, JobKind, plan
from handlers.files import is_private, release
from handlers.notify import Delivered
from handlers.outbox import Guard, OutboxRunner, enqueue, new_posts
from handlers.reminders import job_posts
from storage import Database

log = logging.getLogger(__name__)


def planned(catalogue: Catalogue, start: datetime, end: datetime) -> list[Job]:
    """The catalogue's jobs with `start < at <= end`, in the order they run."""
    return plan(
        catalogue.calendar,
        catalogue.schedule,
        catalogue.schedule_chats,
        catalogue.deadlines,
        start,
        end,
    )


def still_useful(catalogue: Catalogue, job: Job, now: datetime) -> bool:
    """A reminder run late (after a restart) is dropped once the due time has passed or
    when it would land in quiet hours; a digest or countdown is still worth posting."""
    cal = catalogue.calendar
    chasing = job.kind in REMINDERS or job.kind is JobKind.COUNTDOWN
    if chasing and catalogue.schedule.quiet(cal.local(now)):
        return False
    return not (job.kind in REMINDERS and now >= cal.due_at(job.period))


async def run_job(
    catalogue: Catalogue,
    db: Database,
    notifiers: Sequence[Notifier],
    job: Job,
    now: datetime,
    files_dir: Path | None = None,
) -> int:
    """Make the job's posts that have not been made yet; returns how many were made."""
    return (await attempt_job(catalogue, db, notifiers, job, now, files_dir)).made


async def attempt_job(
    catalogue: Catalogue,
    db: Database,
    notifiers: Sequence[Notifier],
    job: Job,
    now: datetime,
    files_dir: Path | None = None,
    guard: Guard | None = None,
    outbox: OutboxRunner | None = None,
) -> Delivered:
    """Compose the job's posts and enqueue them in one transaction that first asks `guard`
    (the scheduler's lease, still its own under its token: a stale leader enqueues nothing),
    then wake their chats: `outbox` drains them (by default here and now, in order) and says
    what it made; one that hands them to other workers says nothing was made here."""
    if not still_useful(catalogue, job, now):
        log.info("job %s skipped at %s", job.id, now.isoformat())
        return Delivered(skipped=True)
    if outbox is None:
        # Files drawn into a directory of the caller's (the simulator's out directory) are
        # sent from there again, and stay; a private one's are sent from a temporary copy.
        keep = files_dir if files_dir is not None and not is_private(files_dir) else None
        outbox = OutboxRunner(catalogue, db, notifiers, keep_files_in=keep)
    # The posts are read in one short transaction, then drawn with none open.
    posts = await job_posts(catalogue, db, job, now, files_dir)
    try:
        rows = new_posts(
            job.id,
            job.period.key,
            posts,
            outbox.notifiers,
            job.at + catalogue.schedule.grace,
            {"kind": job.kind.value, "label": job.period.label, "at": job.at.isoformat()},
        )
    finally:
        # The files' bytes are in the rows now (another worker may send them): they go.
        release(post.message for post in posts)
    async with db.unit_of_work() as uow:
        if guard is not None:
            await guard(uow)  # raises: nothing enqueued
        chats = await enqueue(uow, rows, now)
        await uow.commit()
    delivered = await outbox.wake(chats, now)
    # On PostgreSQL the posts leave from whichever worker's Procrastinate worker takes their
    # chat: none is made here, so the line says what was enqueued.
    log.info(
        "job %s: %d post(s) enqueued, %d made by this process, %d failed",
        job.id,
        len(rows),
        delivered.made,
        len(delivered.failed),
    )
    return delivered
