from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.submission import Sender, Submission
from storage import Database

T0 = datetime(2024, 11, 8, 2, 0, tzinfo=UTC)
REPORT = Submission("xa-0", "2024-W45", 0, {"cccd": 1}, False, T0, Sender("telegram", "1", "A"))


async def test_without_commit_nothing_is_stored(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.audit.add(T0, "bot", "forgotten")
        assert await uow.updates.first_time("telegram", "1", T0)
    async with db.unit_of_work() as uow:
        assert await uow.audit.recent(10) == []
        assert await uow.updates.first_time("telegram", "1", T0)


async def test_exception_rolls_back(db: Database) -> None:
    async def doomed() -> None:
        async with db.unit_of_work() as uow:
            await uow.audit.add(T0, "bot", "doomed")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await doomed()
    async with db.unit_of_work() as uow:
        assert await uow.audit.recent(10) == []


async def test_work_after_commit_is_not_kept(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.audit.add(T0, "bot", "kept")
        await uow.commit()
        await uow.audit.add(T0, "bot", "dropped")
    async with db.unit_of_work() as uow:
        assert [e.action for e in await uow.audit.recent(10)] == ["kept"]


async def test_unit_of_work_outside_block_is_refused(db: Database) -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await db.unit_of_work().commit()


async def test_concurrent_units_of_work_read_then_write(db: Database) -> None:
    # On SQLite a deferred transaction that reads and then writes after another one committed
    # fails with "database is locked"; units of work must queue instead.
    async def submit(unit: str) -> None:
        async with db.unit_of_work() as uow:
            await uow.registrations.approved_for("telegram", unit)
            await asyncio.sleep(0.01)
            await uow.submissions.add(replace(REPORT, unit=unit), T0)
            await uow.commit()

    await asyncio.gather(*(submit(f"xa-{n}") for n in range(10)))
    async with db.unit_of_work() as uow:
        assert await uow.submissions.count_current() == 10
