"""The inbox: updates a webhook delivered, stored before the webhook is answered and handled
per chat in the order they were stored, by whichever worker gets to them.

- **Stored, then acknowledged.** `receive` stores the update (its raw body) and commits
  before the webhook answers 200: a worker that dies after that loses nothing, and the
  platform delivering the update again (a timeout on its side) adds nothing, as a row's key
  is (platform, update id). When the database does not take it, the webhook answers 503
  and the platform delivers it again later.
- **In order per chat.** A chat's updates are handled one at a time, oldest first, and
  marked handled after their handler returned (replies sent). A worker that dies in the
  middle leaves the update unhandled: it is handled again, and the engine's update record
  (`Incoming.update_key`, written with what the update changed) keeps a report from being
  stored twice: at least once from the inbox, exactly once in the database. An update whose
  handling was begun `ATTEMPTS` times and never ended (it takes its worker down each time)
  is set aside, logged as an error, so its chat's later updates are not held for ever.
- **Who handles.** `wake` after the commit: by default a task of this process drains the
  chat (one SQLite process, the tests); with `defer` the chat goes to Procrastinate
  (`bot/queue_worker.py`, PostgreSQL: a `handle` task per chat under `lock=<chat>`, so two
  workers never handle one chat's updates at once). `wake_waiting` (at start, every few
  seconds on SQLite, every minute on PostgreSQL) wakes chats whose wake-up was lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from storage import Database

log = logging.getLogger(__name__)

# Handles one stored update completely (replies sent); the platform adapter's.
Handle = Callable[[dict[str, Any]], Awaitable[None]]
# Hands chats to another runner (Procrastinate); None: drain them in this process.
Defer = Callable[[Sequence[str]], Awaitable[None]]

# Handlings of one update begun before it is set aside (each ended by its worker dying).
ATTEMPTS = 3
# Handled updates are kept this long: their keys catch a platform's repeated delivery
# (Telegram retries an unanswered webhook for up to a day).
INBOX_KEPT = timedelta(days=2)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class InboxRunner:
    def __init__(
        self,
        db: Database,
        *,
        defer: Defer | None = None,
        clock: Callable[[], datetime] = _wall_clock,
    ) -> None:
        self.db = db
        self.defer = defer
        self.clock = clock
        self.handlers: dict[str, Handle] = {}  # platform -> its adapter's handler
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[int]] = set()

    async def receive(self, platform: str, chat_id: str, key: str, body: dict[str, Any]) -> bool:
        """Store an update and wake its chat; True when it was new. Raises when the database
        did not take it (the webhook then answers an error, and the platform tries again)."""
        chat = f"{platform}:{chat_id}"
        async with self.db.unit_of_work() as uow:
            added = await uow.inbox.add(platform, chat, key, body, self.clock())
            await uow.commit()
        if not added:
            log.info("%s: update %s delivered again; stored once", platform, key)
        # Woken even when stored before: that delivery's wake-up may have been lost.
        await self.wake([chat])
        return added

    async def wake(self, chats: Sequence[str]) -> None:
        """Have `chats` drained: handed to `defer`, or by tasks of this process. Never
        raises: a wake-up that fails is made again by `wake_waiting`."""
        if not chats:
            return
        if self.defer is not None:
            try:
                await self.defer(chats)
            except Exception:
                log.exception("inbox: handing %d chat(s) over failed; the sweep will", len(chats))
            return
        for chat in chats:
            task = asyncio.create_task(self.drain(chat), name=f"inbox {chat}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def wake_waiting(self) -> None:
        """Wake every chat with an update not handled yet."""
        async with self.db.unit_of_work() as uow:
            chats = await uow.inbox.waiting_chats()
        await self.wake(chats)

    async def drain(self, chat: str) -> int:
        """Handle the chat's stored updates, oldest first, until none is left; returns how
        many. One drain per chat at a time in this process (Procrastinate's lock keeps the
        other workers out). An update costs the inbox one transaction besides its handling:
        the one that claims it, which also records the previous update handled."""
        platform = chat.split(":", 1)[0]
        handle = self.handlers.get(platform)
        if handle is None:
            log.error("inbox: no %s adapter here; %s left waiting", platform, chat)
            return 0
        done = 0
        finished: int | None = None  # handled, not yet recorded
        lock = self._locks.setdefault(chat, asyncio.Lock())
        async with lock:
            while True:
                async with self.db.unit_of_work() as uow:
                    if finished is not None:
                        await uow.inbox.handled([finished], self.clock())
                    row = await uow.inbox.claim(chat)
                    await uow.commit()
                if finished is not None:
                    done += 1
                if row is None:
                    return done
                if row.attempts > ATTEMPTS:
                    # Begun that often and never ended: it takes its worker down (or out of
                    # memory). Set aside, so the chat's later updates go on.
                    log.error(
                        "inbox: an update of %s was begun %d times and never ended; "
                        "set aside unhandled",
                        chat,
                        row.attempts - 1,
                    )
                else:
                    try:
                        await handle(row.body)
                    except Exception:
                        # The adapters log their own failures; this is a last guard, so one
                        # bad update does not hold its chat's later ones for ever.
                        log.exception("inbox: an update of %s failed", chat)
                finished = row.id

    async def backlog(self, stale_after: timedelta) -> tuple[int, int]:
        """(updates waiting, of which waiting longer than `stale_after`), for `/healthz`."""
        async with self.db.unit_of_work() as uow:
            return await uow.inbox.backlog(self.clock() - stale_after)

    async def stop(self) -> None:
        """Let the drains in hand finish (the web server has stopped taking updates)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
