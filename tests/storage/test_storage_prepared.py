"""Statements sent straight to SQLite's driver (storage/prepared.py) store and read exactly
what SQLAlchemy's execution of the same Core statement does."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from core.submission import Sender, Submission
from storage import Database
from storage.repositories import AUDIT_LOG, SUBMISSIONS, _submission_row

SENT = datetime(2024, 11, 18, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=7)))
RECEIVED = datetime(2024, 11, 18, 2, 31, tzinfo=UTC)
REPORT = Submission(
    unit="xa_a",
    period="2024-W47",
    version=0,
    values={"cccd": 6352, "eid_verified": 5001, "ghi_chu_đ": 0},
    late=True,
    sent_at=SENT,
    sender=Sender("telegram", "42", "Nguyễn Văn Đức"),
    chat="-100123",
    raw_text="Đơn vị: Xã A\nĐã cấp CCCD: 6.352\n<b>&</b> 'x'",
    warnings=("Tăng bất thường", "second"),
)


def _raw(path: Path, table: str, where: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as con:
        return con.execute(f"SELECT * FROM {table} WHERE {where}").fetchall()


async def test_a_report_is_stored_as_sqlalchemy_would_store_it(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with await Database.open(f"sqlite:///{path}") as db:
        async with db.unit_of_work() as uow:  # the driver path
            stored = await uow.submissions.add(REPORT, RECEIVED, replacing=None)
            await uow.audit.add(RECEIVED, "telegram:42", "report.create", "xa_a", "2024-W47")
            await uow.commit()
        async with db.engine.begin() as connection:  # SQLAlchemy's own execution
            row = _submission_row(replace(REPORT, unit="xa_b"), 1, RECEIVED)
            await connection.execute(insert(SUBMISSIONS), row)
            await connection.execute(
                insert(AUDIT_LOG),
                {
                    "at": RECEIVED,
                    "actor": "telegram:42",
                    "action": "report.create",
                    "unit": "xa_b",
                    "period": "2024-W47",
                    "detail": {},
                },
            )
    ours, theirs = _raw(path, "submissions", "unit = 'xa_a'"), _raw(path, "submissions", "1")
    assert stored.version == 1
    assert len(ours) == 1
    assert len(theirs) == 2
    same = next(c for c in theirs if c[1] == "xa_b")
    assert ours[0][2:] == same[2:]  # every column but the id and the unit, byte for byte
    audit = _raw(path, "audit_log", "1")
    assert [a[2:4] + a[5:] for a in audit] == [
        ("telegram:42", "report.create", "2024-W47", "{}")
    ] * 2
    assert audit[0][1] == audit[1][1]  # the time, as SQLAlchemy writes it


async def _with_report(tmp_path: Path) -> Database:
    db = await Database.open(f"sqlite:///{tmp_path / 'bot.db'}")
    async with db.unit_of_work() as uow:
        await uow.submissions.add(REPORT, RECEIVED, replacing=None)
        await uow.commit()
    return db


async def test_what_is_read_back_equals_what_sqlalchemy_reads(tmp_path: Path) -> None:
    async with await _with_report(tmp_path) as db:
        async with db.unit_of_work() as uow:
            ours = await uow.submissions.current("xa_a", "2024-W47")
            recent = await uow.submissions.recent("xa_a", "2024-W47", 5)
        async with db.engine.connect() as connection:
            theirs = (await connection.execute(select(SUBMISSIONS))).one()._mapping
    assert ours is not None
    assert recent == [ours]
    assert ours == replace(REPORT, version=1, current=True, sent_at=SENT.astimezone(UTC))
    assert ours.sent_at == theirs["sent_at"]
    assert ours.values == theirs["values"]
    assert ours.late is theirs["late"] is True


async def test_driver_errors_are_sqlalchemy_errors(tmp_path: Path) -> None:
    async with await _with_report(tmp_path) as db:
        async with db.unit_of_work() as uow:
            # A second version 1 breaks the unique version: IntegrityError, as from SQLAlchemy.
            with pytest.raises(IntegrityError) as info:
                await uow.submissions.add(REPORT, RECEIVED, replacing=None)
            assert isinstance(info.value.orig, sqlite3.IntegrityError)
        async with db.unit_of_work() as uow:
            await uow.submissions.current("xa_a", "2024-W47")  # opens the transaction
            connection = await uow._require().connection()
            await connection.exec_driver_sql("DROP TABLE pending_reports")
            with pytest.raises(OperationalError):
                await uow.pending.delete("telegram", "42")
