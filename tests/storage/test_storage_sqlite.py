"""SQLite on stock aiosqlite: a transaction waiting for another process's write lock waits in
aiosqlite's thread, so the bot keeps answering meanwhile; this process's own units of work
queue at the writer gate (storage/uow.py) instead of meeting in SQLite's busy handler.
(Another process holding the lock past busy_timeout: tests/handlers/test_handlers_outage.py.)"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

import storage.uow
from core.submission import Sender, Submission
from storage import Database

T0 = datetime(2024, 11, 8, 2, 0, tzinfo=UTC)
REPORT = Submission("xa_a", "2024-W47", 0, {"cccd": 1}, False, T0, Sender("telegram", "1", "A"))


async def _audit(db: Database, action: str) -> None:
    async with db.unit_of_work() as uow:
        await uow.audit.add(T0, "bot", action)
        await uow.commit()


async def _actions(db: Database) -> list[str]:
    async with db.unit_of_work() as uow:
        return sorted(e.action for e in await uow.audit.recent(10))


async def test_waiting_for_another_process_does_not_block_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with await Database.open(f"sqlite:///{path}") as db:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process (a backup, the CLI) is writing

        writer = asyncio.create_task(_audit(db, "after the lock"))
        # Had the wait blocked the loop, this sleep would end only after busy_timeout (5 s),
        # with the write failed: the lock is released below, by this very coroutine.
        await asyncio.sleep(0.3)
        assert not writer.done()  # still waiting for the lock
        other.rollback()
        await asyncio.wait_for(writer, 5)
        other.close()
        assert await _actions(db) == ["after the lock"]


async def test_units_of_work_writing_at_once_both_succeed_one_after_the_other(
    tmp_path: Path,
) -> None:
    events: list[str] = []

    async def submit(unit: str) -> None:
        async with db.unit_of_work() as uow:
            events.append(f"{unit} in")
            await uow.submissions.current(unit, REPORT.period)
            await asyncio.sleep(0.05)  # the other one tries to start meanwhile
            await uow.submissions.add(replace(REPORT, unit=unit), T0, replacing=None)
            await uow.commit()
            events.append(f"{unit} out")

    async with await Database.open(f"sqlite:///{tmp_path / 'bot.db'}") as db:
        await asyncio.gather(submit("xa_a"), submit("xa_b"))
        async with db.unit_of_work() as uow:
            assert await uow.submissions.count_current() == 2
    assert events == ["xa_a in", "xa_a out", "xa_b in", "xa_b out"]  # queued, not interleaved


async def _open_within_a_second(db: Database) -> None:
    async with asyncio.timeout(1), db.unit_of_work():  # not after SQLITE_GATE_WAIT
        pass


async def test_nesting_units_of_work_fails_at_once(tmp_path: Path) -> None:
    async with await Database.open(f"sqlite:///{tmp_path / 'bot.db'}") as db:
        async with db.unit_of_work() as outer:
            await outer.audit.add(T0, "bot", "outer")
            with pytest.raises(RuntimeError, match="nested"):
                await _open_within_a_second(db)
            await outer.commit()
        assert await _actions(db) == ["outer"]  # the gate was not left taken


async def test_nesting_is_refused_even_between_transactions(tmp_path: Path) -> None:
    # Units of work are short and sequential (commands, jobs and notifiers each open their
    # own); one opened inside another is a mistake however the outer one stands.
    async with await Database.open(f"sqlite:///{tmp_path / 'bot.db'}") as db:
        async with db.unit_of_work() as outer:
            await outer.audit.add(T0, "bot", "first")
            await outer.commit()
            with pytest.raises(RuntimeError, match="nested"):
                await _open_within_a_second(db)
        await _audit(db, "after")  # the gate was left free
        assert await _actions(db) == ["after", "first"]


async def test_a_unit_of_work_held_too_long_makes_the_next_one_time_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.uow, "SQLITE_GATE_WAIT", 0.1)
    async with await Database.open(f"sqlite:///{tmp_path / 'bot.db'}") as db:
        release = asyncio.Event()

        async def slow() -> None:
            async with db.unit_of_work() as uow:
                await uow.audit.add(T0, "bot", "slow")
                await release.wait()
                await uow.commit()

        holder = asyncio.create_task(slow())
        await asyncio.sleep(0.05)
        with pytest.raises(TimeoutError):  # what the engine answers as "busy"
            await _audit(db, "late")
        release.set()
        await holder
        await _audit(db, "after")
        assert await _actions(db) == ["after", "slow"]


async def test_a_missing_table_is_an_operational_error(tmp_path: Path) -> None:
    async with await Database.open(f"sqlite:///{tmp_path / 'bot.db'}") as db:
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("DROP TABLE pending_reports")
        async with db.unit_of_work() as uow:
            with pytest.raises(OperationalError, match="no such table"):
                await uow.pending.delete("telegram", "42")


SENT = datetime(2024, 11, 18, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=7)))


async def test_a_report_reads_back_as_it_was_stored(db: Database) -> None:
    sent = replace(
        REPORT,
        values={"cccd": 6352, "eid_verified": 5001, "ghi_chu_đ": 0},
        late=True,
        sent_at=SENT,
        sender=Sender("telegram", "42", "Nguyễn Văn Đức"),
        chat="-100123",
        raw_text="Đơn vị: Xã A\nĐã cấp CCCD: 6.352\n<b>&</b> 'x'",
        warnings=("Tăng bất thường", "second"),
    )
    async with db.unit_of_work() as uow:
        stored = await uow.submissions.add(sent, T0, replacing=None)
        await uow.commit()
    async with db.unit_of_work() as uow:
        current = await uow.submissions.current("xa_a", "2024-W47")
        recent = await uow.submissions.recent("xa_a", "2024-W47", 5)
        versions = await uow.submissions.versions("xa_a", "2024-W47")
    expected = replace(sent, version=1, current=True)
    assert stored == expected
    assert current == expected
    assert recent == versions == [expected]
    assert current is not None
    assert current.sent_at.utcoffset() == timedelta(0)  # the same instant, in UTC


async def test_a_broken_constraint_is_an_integrity_error(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.submissions.add(REPORT, T0, replacing=None)
        await uow.commit()
    async with db.unit_of_work() as uow:
        # A second version 1 of the same report breaks the unique version.
        with pytest.raises(IntegrityError):
            await uow.submissions.add(REPORT, T0, replacing=None)
