"""The outbox on PostgreSQL: drained by Procrastinate workers, one in every `bot run` process.

After a commit that enqueued rows, `defer` defers one `deliver` task per chat with
`lock=<chat>` (Procrastinate runs the jobs of one lock one at a time, in order: a chat's rows
are never sent by two workers at once) and `queueing_lock=<chat>` (at most one waiting drain
per chat: a second defer while one waits is a no-op). A periodic task, every minute and
deferred once across all workers (Procrastinate's periodic defers are unique per timestamp),
re-defers the drains of chats with due rows (a crash between a commit and its defer, the end
of a backoff) and ends `deliver` jobs left `doing` by a worker that died (their chats are
then deferred again).

Procrastinate's schema is created by migration 0011 (its `schema.sql`, in the migration's
transaction); docs/DEPLOY.md says how its own upgrades are applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from sqlalchemy.engine import make_url

from handlers.outbox import OutboxRunner

log = logging.getLogger(__name__)

SWEEP_CRON = "* * * * *"  # every minute
CONCURRENCY = 8  # drains (chats) side by side in one process
# Seconds without a heartbeat (every 10 s) before a worker counts as dead and its drains end.
STALLED_AFTER = 30.0


def conninfo(database_url: str) -> str:
    """The app's SQLAlchemy URL (`postgresql+asyncpg://…`) as a libpq connection string."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class OutboxWorker:
    def __init__(self, database_url: str, runner: OutboxRunner, concurrency: int = CONCURRENCY):
        self.runner = runner
        self.concurrency = concurrency
        self.app = App(
            connector=PsycopgConnector(
                conninfo=conninfo(database_url),
                min_size=1,
                max_size=max(4, concurrency // 2),
                kwargs={"application_name": "bot outbox"},
            )
        )
        self._task: asyncio.Task[None] | None = None

        @self.app.task(name="deliver")
        async def deliver(chat: str) -> None:
            await runner.drain(chat)

        @self.app.periodic(cron=SWEEP_CRON, periodic_id="outbox")
        @self.app.task(name="outbox_sweep", queueing_lock="outbox_sweep")
        async def sweep(timestamp: int) -> None:
            await self.sweep()

        self._deliver = deliver
        runner.defer = self.defer

    async def defer(self, chats: Sequence[str]) -> None:
        """One waiting `deliver` per chat, run one at a time per chat."""
        for chat in chats:
            with contextlib.suppress(AlreadyEnqueued):  # one is waiting: it will see the rows
                await self._deliver.configure(lock=chat, queueing_lock=chat).defer_async(chat=chat)

    async def sweep(self) -> None:
        """End the drains a dead worker left `doing` (their chat's lock is free again; its
        due rows are deferred below), then defer every chat with due rows."""
        stalled = await self.app.job_manager.get_stalled_jobs(
            task_name="deliver", seconds_since_heartbeat=STALLED_AFTER
        )
        for job in stalled:
            # Not retried in place: a drain of the same chat may be waiting already
            # (`queueing_lock`), and a second waiting one is refused by Procrastinate.
            log.warning("outbox: the drain of %s was left by a dead worker", job.lock)
            assert job.id is not None
            await self.app.job_manager.finish_job_by_id_async(
                job.id, status=Status.FAILED, delete_job=False
            )
        await self.runner.drain_due()

    async def start(self) -> None:
        await self.app.open_async()
        self._task = asyncio.create_task(
            self.app.run_worker_async(
                concurrency=self.concurrency,
                install_signal_handlers=False,
                delete_jobs="successful",
                shutdown_graceful_timeout=10.0,
                stalled_worker_timeout=STALLED_AFTER,
            ),
            name="outbox-worker",
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.app.close_async()
