from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, StatementError

from core.submission import Sender, Submission
from storage import Database
from storage.models import SubmissionRow

ICT = timezone(timedelta(hours=7))
NOW = datetime(2024, 11, 8, 9, 30, 15, 123456, tzinfo=ICT)
SENDER = Sender("telegram", "42", "Nguyễn Văn A")


def report(unit: str = "xa-an-phu", period: str = "2024-W45", **values: int) -> Submission:
    return Submission(
        unit=unit,
        period=period,
        version=0,
        values=values or {"cccd": 10},
        late=False,
        sent_at=NOW,
        sender=SENDER,
        chat="-100123",
        raw_text="cccd 10",
        warnings=("giảm so với tuần trước",),
    )


async def test_versions_only_last_is_current(db: Database) -> None:
    async with db.unit_of_work() as uow:
        stored = [await uow.submissions.add(report(cccd=n), NOW) for n in (1, 2, 3)]
        await uow.commit()
    assert [s.version for s in stored] == [1, 2, 3]

    async with db.unit_of_work() as uow:
        versions = await uow.submissions.versions("xa-an-phu", "2024-W45")
        current = await uow.submissions.current("xa-an-phu", "2024-W45")
        count = await uow.submissions.count_current()
    assert [(s.version, s.current, s.values["cccd"]) for s in versions] == [
        (1, False, 1),
        (2, False, 2),
        (3, True, 3),
    ]
    assert current == versions[-1]
    assert current == replace(report(cccd=3), version=3)
    assert count == 1


async def test_current_missing(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await uow.submissions.current("xa-an-phu", "2024-W45") is None
        assert await uow.submissions.versions("xa-an-phu", "2024-W45") == []
        assert await uow.submissions.current_for_periods([]) == []


async def test_history_and_periods(db: Database) -> None:
    async with db.unit_of_work() as uow:
        for period in ("2024-W09", "2024-W10", "2024-W44", "2024-W45", "2023-W52"):
            await uow.submissions.add(report(period=period), NOW)
        await uow.submissions.add(report(period="2024-W10", cccd=99), NOW)
        await uow.submissions.add(report(unit="xa-khac", period="2024-W44"), NOW)
        await uow.commit()

    async with db.unit_of_work() as uow:
        history = await uow.submissions.history("xa-an-phu", before="2024-W45", limit=3)
        everything = await uow.submissions.history("xa-an-phu", before="9999-W99", limit=10)
        by_period = await uow.submissions.current_for_periods(["2024-W44", "2024-W10"])
        one = await uow.submissions.current_for_period("2024-W44")
        periods = await uow.submissions.periods_with_reports(limit=3)
        count = await uow.submissions.count_current()

    assert [s.period for s in history] == ["2024-W44", "2024-W10", "2024-W09"]
    assert history[1].values == {"cccd": 99}
    assert all(s.current for s in everything)
    assert [s.period for s in everything][-1] == "2023-W52"
    assert [(s.period, s.unit) for s in by_period] == [
        ("2024-W10", "xa-an-phu"),
        ("2024-W44", "xa-an-phu"),
        ("2024-W44", "xa-khac"),
    ]
    assert [s.unit for s in one] == ["xa-an-phu", "xa-khac"]
    assert periods == ["2024-W45", "2024-W44", "2024-W10"]
    assert count == 6


@pytest.mark.parametrize("offset", [7, 0, -5])
async def test_datetimes_come_back_aware_and_equal(db: Database, offset: int) -> None:
    sent = NOW.astimezone(timezone(timedelta(hours=offset)))
    async with db.unit_of_work() as uow:
        await uow.submissions.add(replace(report(), sent_at=sent), NOW)
        await uow.commit()
    async with db.unit_of_work() as uow:
        stored = await uow.submissions.current("xa-an-phu", "2024-W45")
    assert stored is not None
    assert stored.sent_at == sent
    assert stored.sent_at.utcoffset() == timedelta(0)


async def test_naive_datetime_is_refused(db: Database) -> None:
    naive = NOW.replace(tzinfo=None)
    async with db.unit_of_work() as uow:
        with pytest.raises(StatementError, match="naive datetime") as info:
            await uow.submissions.add(replace(report(), sent_at=naive), NOW)
    assert isinstance(info.value.orig, ValueError)
    async with db.unit_of_work() as uow:
        assert await uow.submissions.count_current() == 0


async def test_received_at_is_stored_in_utc(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.submissions.add(report(), NOW)
        await uow.commit()
    async with db.engine.connect() as connection:
        received = await connection.exec_driver_sql("SELECT received_at FROM submissions")
        value = received.scalar()
    # SQLite hands back text, PostgreSQL an aware datetime; both must be the UTC instant.
    expected = NOW.astimezone(UTC)
    if isinstance(value, str):
        assert value.startswith(expected.strftime("%Y-%m-%d %H:%M:%S"))
    else:
        assert value == expected


async def test_schema_refuses_two_current_rows(db: Database) -> None:
    row = {
        "unit": "xa-an-phu",
        "period": "2024-W45",
        "is_current": True,
        "values": {},
        "raw_text": "",
        "warnings": [],
        "sender_platform": "telegram",
        "sender_id": "42",
        "sender_name": "A",
        "chat": "",
        "sent_at": NOW,
        "received_at": NOW,
        "late": False,
    }
    async with db.engine.connect() as connection:
        await connection.execute(insert(SubmissionRow), [{**row, "version": 1}])
        with pytest.raises(IntegrityError):
            await connection.execute(insert(SubmissionRow), [{**row, "version": 2}])


async def test_latest_before_is_each_units_newest_current_report(db: Database) -> None:
    """A monthly report's carried-in figures: per unit, the current version of its latest
    week before the given one (later weeks and older versions left out)."""
    async with db.unit_of_work() as uow:
        await uow.submissions.add(report("a", "2024-W40", cccd=1), NOW)
        await uow.submissions.add(report("a", "2024-W43", cccd=2), NOW)
        await uow.submissions.add(report("a", "2024-W43", cccd=3), NOW)  # corrected
        await uow.submissions.add(report("a", "2024-W45", cccd=9), NOW)  # in the month
        await uow.submissions.add(report("b", "2024-W09", cccd=5), NOW)
        await uow.submissions.add(report("c", "2024-W45", cccd=7), NOW)
        await uow.commit()
    async with db.unit_of_work() as uow:
        rows = await uow.submissions.latest_before("2024-W45")
    assert sorted((r.unit, r.period, r.values["cccd"]) for r in rows) == [
        ("a", "2024-W43", 3),
        ("b", "2024-W09", 5),
    ]


async def test_current_values_of_some_units_only(db: Database) -> None:
    # A scoped chat's reads (issue 17): the current values of its units, none of the others'.
    async with db.unit_of_work() as uow:
        for unit, n in (("xa-an-phu", 1), ("xa-binh-an", 2), ("xa-chau-o", 3)):
            await uow.submissions.add(report(unit, cccd=n), NOW)
        await uow.submissions.add(report("xa-an-phu", cccd=4), NOW)  # its current version
        await uow.commit()
    async with db.unit_of_work() as uow:
        every = await uow.submissions.current_values(["2024-W45"])
        some = await uow.submissions.current_values(["2024-W45"], {"xa-an-phu", "xa-chau-o"})
        none = await uow.submissions.current_values(["2024-W45"], set())
    assert sorted((r.unit, r.values["cccd"]) for r in every) == [
        ("xa-an-phu", 4),
        ("xa-binh-an", 2),
        ("xa-chau-o", 3),
    ]
    assert sorted((r.unit, r.values["cccd"]) for r in some) == [("xa-an-phu", 4), ("xa-chau-o", 3)]
    assert none == []
