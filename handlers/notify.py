"""Posting without a message to answer (reminders, digests, nudges), each post exactly once.

A post counts as made only once it is recorded in `posts_made` under its job id, recipient and
platform. The record is written right *after* a successful send: a crash between the two makes
the post again after a restart (one duplicate) rather than never (a loss). A post the platform
finally refused (`DeliveryFailed`) is not recorded: the job run again sends it.

The scheduler's posts no longer come this way: they go through the outbox (`handlers.outbox`,
which shares this module's values). `send_posts` remains the direct path the bench times.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.chat import BatchNotifier, Notifier, Recipient, Reply, id_on
from storage import Database
from storage.repositories import UnreachablePerson

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """A message the platform did not take after the adapter's own retries (the
    `core.chat.Notifier` contract; `bot.adapter` re-exports it for the adapters).

    `unreachable`: the platform said this recipient cannot get the bot's messages until a
    person acts (the bot was removed from the group, blocked, never started in private, or
    the chat is unknown to it): sending again by itself will not help.
    """

    def __init__(self, detail: str, *, unreachable: bool = False, reason: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.unreachable = unreachable
        self.reason = reason or detail  # the platform's own words, for the admins


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


@dataclass(frozen=True)
class Failure:
    """A post one platform did not take."""

    post: Outgoing
    platform: str
    detail: str
    unreachable: bool = False
    reason: str = ""


@dataclass
class Delivered:
    """What one delivery run did: posts made (and recorded) and posts that failed."""

    made: int = 0
    failed: list[Failure] = field(default_factory=list)
    reached: set[tuple[str, str]] = field(default_factory=set)  # (record key, platform)
    skipped: bool = False  # the job was no longer worth running (nothing was tried)


async def deliver(
    db: Database,
    notifiers: Sequence[Notifier],
    job_id: str,
    period: str,
    posts: Sequence[Outgoing],
    now: datetime,
) -> int:
    """`send_posts`, returning only how many posts were made."""
    return (await send_posts(db, notifiers, job_id, period, posts, now)).made


async def send_posts(
    db: Database,
    notifiers: Sequence[Notifier],
    job_id: str,
    period: str,
    posts: Sequence[Outgoing],
    now: datetime,
) -> Delivered:
    """Send each post on every platform that has not had it yet.

    Several posts in a row to one recipient go as one batch to a platform that can compact
    them (`post_many`: Zalo puts the weekly digest in as few messages as it can). The log is
    read in one short transaction and each post recorded in its own right after it was sent:
    no transaction (and, on SQLite, no write lock) is held across network I/O. Call it with
    no unit of work open.
    """
    async with db.unit_of_work() as uow:
        made = await uow.posts.made(job_id)
        unreachable = await uow.unreachable.ids()
    result = Delivered(reached={(p.record_key, n.platform) for p in posts for n in notifiers})
    result.reached &= made
    for notifier in notifiers:
        todo = [p for p in posts if (p.record_key, notifier.platform) not in made]
        for batch in _runs(todo, compact=isinstance(notifier, BatchNotifier)):
            try:
                if len(batch) > 1 and isinstance(notifier, BatchNotifier):
                    sent = await notifier.post_many(batch[0].to, [p.message for p in batch])
                else:
                    sent = await notifier.post(batch[0].to, batch[0].message)
            except DeliveryFailed as exc:
                # Not recorded: the next run of this job (a retry, a restart's catch-up)
                # tries again.
                log.error(
                    "posting %s to %s on %s failed: %s",
                    job_id,
                    batch[0].to.key,
                    notifier.platform,
                    exc.detail,
                )
                result.failed += [
                    Failure(p, notifier.platform, exc.detail, exc.unreachable, exc.reason)
                    for p in batch
                ]
                user_id = id_on(batch[0].to.ids, notifier.platform)
                if exc.unreachable and not batch[0].to.group and user_id is not None:
                    await _mark_unreachable(db, batch[0].to, notifier.platform, user_id, exc, now)
                    unreachable.add((notifier.platform, user_id))
                continue
            except Exception as exc:
                log.exception(
                    "posting %s to %s on %s failed", job_id, batch[0].to.key, notifier.platform
                )
                result.failed += [Failure(p, notifier.platform, repr(exc)) for p in batch]
                continue
            if not sent:
                continue
            user_id = id_on(batch[0].to.ids, notifier.platform)
            async with db.unit_of_work() as uow:
                for post in batch:
                    await uow.posts.record(job_id, post.record_key, notifier.platform, period, now)
                if not batch[0].to.group and (notifier.platform, user_id) in unreachable:
                    # A message went through: they pressed Start (or unblocked the bot).
                    await uow.unreachable.clear(notifier.platform, user_id or "")
                    unreachable.discard((notifier.platform, user_id or ""))
                await uow.commit()
            made.update((post.record_key, notifier.platform) for post in batch)
            result.reached.update((post.record_key, notifier.platform) for post in batch)
            result.made += len(batch)
    return result


async def _mark_unreachable(
    db: Database, to: Recipient, platform: str, user_id: str, exc: DeliveryFailed, now: datetime
) -> None:
    """Listed for the admins (`/trangthai`) until a message to them goes through."""
    log.warning(
        "%s: %s (%s) cannot get the bot's messages: %s", platform, to.key, to.name, exc.reason
    )
    async with db.unit_of_work() as uow:
        await uow.unreachable.mark(
            UnreachablePerson(platform, user_id, to.key, to.name, exc.reason, now)
        )
        await uow.commit()


def _runs(posts: Sequence[Outgoing], compact: bool) -> list[list[Outgoing]]:
    """Posts in order, grouped into runs to the same recipient when `compact`."""
    runs: list[list[Outgoing]] = []
    for post in posts:
        if compact and runs and runs[-1][0].to == post.to:
            runs[-1].append(post)
        else:
            runs.append([post])
    return runs
