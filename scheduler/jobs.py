"""Running one planned job: compose its posts and deliver each exactly once.

`run_job` is what the APScheduler trigger calls at the job's time and what the simulator's
virtual clock calls at the job's virtual time; it never reads the wall clock itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Notifier, reply
from core.schedule import REMINDERS, Job, JobKind, plan
from handlers.files import release
from handlers.notify import Delivered, Failure, Fence, send_posts, tell_admins
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
    fence: Fence | None = None,
) -> Delivered:
    """`run_job`, saying also which posts a platform did not take. `fence` is awaited before
    each send (`handlers.notify.send_posts`)."""
    if not still_useful(catalogue, job, now):
        log.info("job %s skipped at %s", job.id, now.isoformat())
        return Delivered(skipped=True)
    # Each step opens its own short transactions: the posts are read, then drawn and sent
    # with none open.
    posts = await job_posts(catalogue, db, job, now, files_dir)
    try:
        delivered = await send_posts(db, notifiers, job.id, job.period.key, posts, now, fence)
    finally:
        # Every platform has had the posts now (a digest's charts go to Telegram and Zalo):
        # their files go. A retry composes the posts and draws the charts again.
        release(post.message for post in posts)
    log.info("job %s: %d post(s) made, %d failed", job.id, delivered.made, len(delivered.failed))
    return delivered


async def report_undelivered(
    catalogue: Catalogue,
    db: Database,
    notifiers: Sequence[Notifier],
    job: Job,
    failures: Sequence[Failure],
    now: datetime,
    fence: Fence | None = None,
) -> int:
    """Tell the admins in private which of the job's posts never went out (once per job)."""
    seen = dict.fromkeys((f.post.to.name, f.platform, f.reason) for f in failures)
    text = msg.undelivered_notice(
        job.kind.value, job.period.label, catalogue.calendar.local(job.at), list(seen)
    )
    log.error("job %s: %d post(s) not delivered; telling the admins", job.id, len(failures))
    return await tell_admins(
        db, catalogue, notifiers, job.id, job.period.key, reply(text), now, fence
    )
