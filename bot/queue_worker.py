"""The outbox and the inbox on PostgreSQL: drained by Procrastinate workers, two in every
`bot run` process (one per queue, so a slow group's posts never hold an officer's reply).

- **Outbox** (queue `default`): after a commit that enqueued rows, `defer_posts` defers one
  `deliver` task per chat with `lock=<chat>` (Procrastinate runs the jobs of one lock one at
  a time, in order: a chat's rows are never sent by two workers at once) and
  `queueing_lock=<chat>` (at most one waiting drain per chat: a second defer while one waits
  is a no-op).
- **Inbox** (queue `inbox`): after a webhook stored an update, `defer_updates` defers a
  `handle` task for its chat the same way (`lock` and `queueing_lock` `inbox:<chat>`): any
  worker handles it, one chat's updates one at a time, in the order they were stored.
- **Sweep**: a periodic task, every minute and deferred once across all workers
  (Procrastinate's periodic defers are unique per timestamp), ends the jobs left `doing` by
  a worker that died (their chats' locks are free again) and re-defers the chats with due
  posts or waiting updates (a crash between a commit and its defer, the end of a backoff).

Procrastinate's schema is created by migration 0011 (its `schema.sql`, in the migration's
transaction); docs/DEPLOY.md says how its own upgrades are applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from procrastinate.tasks import Task
from sqlalchemy.engine import make_url

from handlers.inbox import InboxRunner
from handlers.outbox import OutboxRunner

log = logging.getLogger(__name__)

SWEEP_CRON = "* * * * *"  # every minute
CONCURRENCY = 8  # chats drained side by side in one process, per queue
INBOX_QUEUE = "inbox"
# Seconds without a heartbeat (every 10 s) before a worker counts as dead and its jobs end.
STALLED_AFTER = 30.0


def conninfo(database_url: str) -> str:
    """The app's SQLAlchemy URL (`postgresql+asyncpg://…`) as a libpq connection string."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class QueueWorker:
    def __init__(
        self,
        database_url: str,
        outbox: OutboxRunner,
        inbox: InboxRunner | None = None,
        concurrency: int = CONCURRENCY,
    ):
        self.outbox = outbox
        self.inbox = inbox
        self.concurrency = concurrency
        self.app = App(
            connector=PsycopgConnector(
                conninfo=conninfo(database_url),
                min_size=1,
                max_size=max(4, concurrency // 2),
                kwargs={"application_name": "bot queues"},
            )
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._opened = False

        @self.app.task(name="deliver")
        async def deliver(chat: str) -> None:
            await outbox.drain(chat)

        @self.app.task(name="handle", queue=INBOX_QUEUE)
        async def handle(chat: str) -> None:
            if inbox is not None:
                await inbox.drain(chat)

        @self.app.periodic(cron=SWEEP_CRON, periodic_id="outbox")
        @self.app.task(name="outbox_sweep", queueing_lock="outbox_sweep")
        async def sweep(timestamp: int) -> None:
            await self.sweep()

        self._deliver = deliver
        self._handle = handle
        outbox.defer = self.defer_posts
        if inbox is not None:
            inbox.defer = self.defer_updates

    async def defer_posts(self, chats: Sequence[str]) -> None:
        """One waiting `deliver` per chat, run one at a time per chat."""
        await _defer(self._deliver, chats, "")

    async def defer_updates(self, chats: Sequence[str]) -> None:
        """One waiting `handle` per chat, run one at a time per chat."""
        await _defer(self._handle, chats, "inbox:")

    async def sweep(self) -> None:
        """End the jobs a dead worker left `doing` (their chat's lock is free again; the chat
        is deferred below), then defer every chat with due posts or waiting updates."""
        for task_name in ("deliver", "handle"):
            stalled = await self.app.job_manager.get_stalled_jobs(
                task_name=task_name, seconds_since_heartbeat=STALLED_AFTER
            )
            for job in stalled:
                # Not retried in place: a job of the same chat may be waiting already
                # (`queueing_lock`), and a second waiting one is refused by Procrastinate.
                log.warning("queues: %s of %s was left by a dead worker", task_name, job.lock)
                assert job.id is not None
                await self.app.job_manager.finish_job_by_id_async(
                    job.id, status=Status.FAILED, delete_job=False
                )
        await self.outbox.drain_due()
        if self.inbox is not None:
            await self.inbox.wake_waiting()

    async def open(self) -> None:
        """Open the connections: chats can be deferred from now on (`start` runs them)."""
        if not self._opened:
            await self.app.open_async()
            self._opened = True

    async def start(self) -> None:
        await self.open()
        queues = [("default", "outbox")] + ([(INBOX_QUEUE, "inbox")] if self.inbox else [])
        for queue, name in queues:
            self._tasks.append(
                asyncio.create_task(
                    self.app.run_worker_async(
                        queues=[queue],
                        name=name,
                        concurrency=self.concurrency,
                        install_signal_handlers=False,
                        delete_jobs="successful",
                        shutdown_graceful_timeout=10.0,
                        stalled_worker_timeout=STALLED_AFTER,
                    ),
                    name=f"{name}-worker",
                )
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._opened:
            await self.app.close_async()
            self._opened = False


async def _defer(task: Task[..., Any, Any], chats: Sequence[str], prefix: str) -> None:
    """A job of `task` per chat under `lock` and `queueing_lock` `prefix + chat`: one chat's
    jobs run one at a time, in order, and at most one waits."""
    for chat in chats:
        lock = prefix + chat
        with contextlib.suppress(AlreadyEnqueued):  # one is waiting: it will see the rows
            await task.configure(lock=lock, queueing_lock=lock).defer_async(chat=chat)
