"""The SQLite driver that runs statements in the event loop (storage/sqlite_inline.py): a
transaction that must wait for another process's write lock waits in a thread, so the bot
keeps answering meanwhile, and it goes on once the lock is free. (Another process holding the
lock past busy_timeout: tests/handlers/test_handlers_outage.py.)"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from storage import Database

T0 = datetime(2024, 11, 8, 2, 0, tzinfo=UTC)


async def test_waiting_for_another_process_does_not_block_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with await Database.open(f"sqlite:///{path}") as db:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process (a backup, the CLI) is writing

        async def write() -> None:
            async with db.unit_of_work() as uow:
                await uow.audit.add(T0, "bot", "after the lock")
                await uow.commit()

        writer = asyncio.create_task(write())
        # Had the wait blocked the loop, this sleep would end only after busy_timeout (5 s),
        # with the write failed: the lock is released below, by this very coroutine.
        await asyncio.sleep(0.3)
        assert not writer.done()  # still waiting for the lock
        other.rollback()
        await asyncio.wait_for(writer, 5)
        other.close()
        async with db.unit_of_work() as uow:
            assert [e.action for e in await uow.audit.recent(5)] == ["after the lock"]
