"""Posting without a message to answer (reminders, digests, nudges), each post exactly once.

A post counts as made only once it is recorded in `posts_made` under its job id, recipient and
platform. The record is written right *after* a successful send: a crash between the two makes
the post again after a restart (one duplicate) rather than never (a loss).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.chat import Notifier, Recipient, Reply
from storage import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    to: Recipient
    message: Reply
    part: int = 0  # a job posting several messages to one recipient numbers them

    @property
    def record_key(self) -> str:
        # Chat keys and person keys are separate names in the config.
        key = ("chat:" if self.to.group else "user:") + self.to.key
        return f"{key}#{self.part}" if self.part else key


async def deliver(
    uow: UnitOfWork,
    notifiers: Sequence[Notifier],
    job_id: str,
    period: str,
    posts: Sequence[Outgoing],
    now: datetime,
) -> int:
    """Send each post on every platform that has not had it yet; returns the posts made.

    Commits the unit of work before each send so no transaction (and, on SQLite, no write
    lock) is held across network I/O.
    """
    made = await uow.posts.made(job_id)
    await uow.commit()
    count = 0
    for post in posts:
        for notifier in notifiers:
            if (post.record_key, notifier.platform) in made:
                continue
            try:
                sent = await notifier.post(post.to, post.message)
            except Exception:
                # Not recorded: the next run of this job (a restart's catch-up) tries again.
                log.exception(
                    "posting %s to %s on %s failed", job_id, post.to.key, notifier.platform
                )
                continue
            if not sent:
                continue
            await uow.posts.record(job_id, post.record_key, notifier.platform, period, now)
            await uow.commit()
            made.add((post.record_key, notifier.platform))
            count += 1
    return count
