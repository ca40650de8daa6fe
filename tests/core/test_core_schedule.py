"""The job plan, holiday-moved due dates (and lateness agreeing with them), quiet hours,
skipped weeks and the `[schedule]` / new `[calendar]` keys."""

from __future__ import annotations

import copy
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.catalogue import Catalogue, ConfigError, build_catalogue
from core.periods import Period
from core.schedule import Schedule, plan

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
RAW: dict[str, Any] = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)  # type: ignore[misc]


def catalogue(schedule: dict[str, Any] | None = None, **calendar: Any) -> Catalogue:
    data = copy.deepcopy(RAW)
    data["calendar"].update(calendar)
    if schedule is not None:
        data["schedule"] = schedule
    return build_catalogue(data)


def jobs(cat: Catalogue, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    planned = plan(cat.calendar, cat.schedule, cat.schedule_chats, cat.deadlines, start, end)
    return [(j.id, j.at) for j in planned]


def test_a_plain_week_in_order_with_deterministic_ids() -> None:
    cat = catalogue()
    assert cat.schedule == Schedule()
    assert cat.schedule_chats == ("nhom_bao_cao",)
    assert jobs(cat, at(2024, 11, 15, 0, 0), at(2024, 11, 18, 12, 0)) == [
        ("countdown:nhom_bao_cao:2024-W46:non_cash:30", at(2024, 11, 15, 8, 0)),
        ("remind:nhom_bao_cao:2024-W47:fri1600", at(2024, 11, 15, 16, 0)),
        ("remind:nhom_bao_cao:2024-W47:mon0730", at(2024, 11, 18, 7, 30)),
        ("lastcall:nhom_bao_cao:2024-W47", at(2024, 11, 18, 9, 0)),
        ("digest:nhom_bao_cao:2024-W47:mon1100", at(2024, 11, 18, 11, 0)),
    ]
    # The window is half-open: (start, end].
    assert jobs(cat, at(2024, 11, 18, 9, 0), at(2024, 11, 18, 11, 0)) == [
        ("digest:nhom_bao_cao:2024-W47:mon1100", at(2024, 11, 18, 11, 0)),
    ]


def test_countdowns_at_30_14_7_3_1_days() -> None:
    cat = catalogue()
    found = [
        (i, when.date())
        for i, when in jobs(cat, at(2024, 12, 1, 0, 0), at(2024, 12, 31, 0, 0))
        if i.startswith("countdown")
    ]
    deadlines = dict(cat.deadlines)
    for job_id, day in found:
        code, days = job_id.split(":")[-2:]
        assert deadlines[code] - timedelta(days=int(days)) == day
        assert int(days) in (30, 14, 7, 3, 1)
    assert {i.split(":")[-2] for i, _ in found} == {
        "non_cash",
        "id_card_u6",
        "id_card_6_14",
        "eid_verified",
        "eid_activated",
    }


def test_national_day_2024_moves_the_due_date_and_lateness_agrees() -> None:
    cal = catalogue().calendar
    w36 = Period(2024, 36)  # Monday 2 and Tuesday 3 September 2024 are public holidays
    assert cal.regular_due_at(w36) == at(2024, 9, 2, 10, 0)
    assert cal.due_at(w36) == at(2024, 9, 4, 10, 0)
    assert cal.due_moved(w36)
    # Lateness follows the moved due date.
    assert cal.place(at(2024, 9, 3, 9, 0)).period == w36
    assert not cal.place(at(2024, 9, 3, 9, 0)).late
    assert not cal.place(at(2024, 9, 4, 9, 59)).late
    placed = cal.place(at(2024, 9, 4, 10, 30))
    assert (placed.period, placed.late) == (w36, True)
    assert cal.place(at(2024, 9, 6, 10, 0)).period == Period(2024, 37)
    assert cal.place_in(w36, at(2024, 9, 3, 12, 0)).late is False
    # The week after is unaffected.
    assert cal.due_at(Period(2024, 37)) == at(2024, 9, 9, 10, 0)
    # Last call and digest move with the due date; early reminders keep to the usual week.
    ids = dict(jobs(catalogue(), at(2024, 8, 30, 0, 0), at(2024, 9, 5, 0, 0)))
    assert ids["remind:nhom_bao_cao:2024-W36:fri1600"] == at(2024, 8, 30, 16, 0)
    assert ids["lastcall:nhom_bao_cao:2024-W36"] == at(2024, 9, 4, 9, 0)
    assert ids["digest:nhom_bao_cao:2024-W36:mon1100"] == at(2024, 9, 4, 11, 0)


def test_tet_2025_closes_the_working_week() -> None:
    cal = catalogue().calendar
    w05 = Period(2025, 5)  # Monday 27/1 to Saturday 1/2/2025 are Tết holidays
    # No working day is left before the next Monday: the first open day, Sunday, is used.
    assert cal.due_at(w05) == at(2025, 2, 2, 10, 0)
    assert cal.place(at(2025, 1, 30, 12, 0)).period == w05
    assert not cal.place(at(2025, 1, 30, 12, 0)).late
    assert cal.place(at(2025, 2, 2, 11, 0)).late
    assert cal.due_at(Period(2025, 6)) == at(2025, 2, 3, 10, 0)


def test_holidays_off_and_extra_days_off() -> None:
    plain = catalogue(holidays=False).calendar
    assert plain.due_at(Period(2024, 36)) == at(2024, 9, 2, 10, 0)
    extra = catalogue(holidays=False, extra_holidays=[date(2024, 11, 18)]).calendar
    assert extra.due_at(Period(2024, 47)) == at(2024, 11, 19, 10, 0)


def test_skipped_weeks_post_nothing() -> None:
    cat = catalogue(skip_weeks=["2024-W47"])
    found = jobs(cat, at(2024, 11, 14, 0, 0), at(2024, 11, 19, 0, 0))
    assert [i for i, _ in found if "W47" in i] == []
    assert cat.calendar.skipped(Period(2024, 47))


def test_quiet_hours_drop_reminders() -> None:
    cat = catalogue({"early_reminders": ["sunday 22:00", "monday 06:59", "monday 07:00"]})
    found = jobs(cat, at(2024, 11, 17, 0, 0), at(2024, 11, 18, 8, 0))
    assert [i for i, _ in found] == ["remind:nhom_bao_cao:2024-W47:mon0700"]
    schedule = cat.schedule
    assert schedule.quiet(at(2024, 11, 17, 21, 0))
    assert schedule.quiet(at(2024, 11, 18, 6, 59))
    assert not schedule.quiet(at(2024, 11, 18, 7, 0))
    assert not schedule.quiet(at(2024, 11, 18, 20, 59))


def test_schedule_keys() -> None:
    cat = catalogue(
        {
            "chats": ["nhom_bao_cao"],
            "early_reminders": ["Thursday 9h00"],
            "last_call_minutes": 0,
            "digest": ["tuesday 08:00"],
            "countdown_days": [7, 1, 7],
            "countdown_time": "09:30",
            "quiet_start": "22:00",
            "quiet_end": "06:00",
            "grace_minutes": 30,
            "nudge_interval_minutes": 90,
        }
    )
    s = cat.schedule
    assert s.early[0].weekday == 3
    assert s.early[0].at == time(9, 0)
    assert s.last_call is None
    assert s.digest[0].slug == "tue0800"
    assert s.countdown_days == (7, 1)
    assert s.countdown_time == time(9, 30)
    assert (s.quiet_start, s.quiet_end) == (time(22, 0), time(6, 0))
    assert s.grace == timedelta(minutes=30)
    assert s.nudge_interval == timedelta(minutes=90)
    assert catalogue({"enabled": False}).schedule.enabled is False
    assert jobs(catalogue({"enabled": False}), at(2024, 11, 1, 0, 0), at(2024, 12, 1, 0, 0)) == []


@pytest.mark.parametrize(
    ("schedule", "calendar", "key"),
    [
        ({"early_reminders": ["friday"]}, {}, "schedule.early_reminders"),
        ({"early_reminders": ["fri 16:00"]}, {}, "schedule.early_reminders"),
        ({"digest": ["monday 25:00"]}, {}, "schedule.digest"),
        ({"chats": ["khong_co"]}, {}, "schedule.chats"),
        ({"last_call_minutes": -5}, {}, "schedule.last_call_minutes"),
        ({"countdown_days": [0]}, {}, "schedule.countdown_days"),
        ({"countdown_days": "7"}, {}, "schedule.countdown_days"),
        ({"quiet_start": "9pm"}, {}, "schedule.quiet_start"),
        ({"grace_minutes": 0}, {}, "schedule.grace_minutes"),
        ({"enabled": "yes"}, {}, "schedule.enabled"),
        ({"digests": ["monday 11:00"]}, {}, "schedule.digests"),
        (None, {"holidays": "yes"}, "calendar.holidays"),
        (None, {"extra_holidays": ["2024-12-31"]}, "calendar.extra_holidays"),
        (None, {"skip_weeks": ["tuần 60"]}, "calendar.skip_weeks"),
        (None, {"excused": [{"unit": "khong_co", "weeks": []}]}, "calendar.excused[0].unit"),
        (None, {"excused": [{"unit": "binh_an", "weeks": ["W47"]}]}, "calendar.excused[0].weeks"),
        (
            None,
            {"excused": [{"unit": "binh_an", "week": ["2024-W47"]}]},
            "calendar.excused[0].week",
        ),
    ],
)
def test_bad_keys_are_named(
    schedule: dict[str, Any] | None, calendar: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        catalogue(schedule, **calendar)
    assert caught.value.key == key


def test_a_unit_excused_for_a_week() -> None:
    cat = catalogue(excused=[{"unit": "binh_an", "weeks": ["2024-W47", "48/2024"]}])
    assert cat.calendar.excused == {("2024-W47", "binh_an"), ("2024-W48", "binh_an")}
    assert "binh_an" not in {u.code for u in cat.expected_units(Period(2024, 47))}
    assert "binh_an" in {u.code for u in cat.expected_units(Period(2024, 49))}
