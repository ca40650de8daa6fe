"""Milestones (dated targets, as a count or a rate, for the area or one unit) and the daily
quota toward them: what is left ÷ the days left, calendar or working days, rounded up or to
the nearest (issue 16)."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from core.catalogue import ConfigError, Indicator, Milestone, PaceRules, build_catalogue
from core.holidays_vn import VIETNAM_HOLIDAYS
from core.pace import (
    Point,
    daily_quota,
    days_left,
    last_milestone,
    next_milestone,
    quota_toward,
)
from tests.conftest import CONFIG_PATH

CALENDAR = PaceRules()
WORKING = PaceRules(working_days=True)
NEAREST = PaceRules(round_up=False)
COUNT_31_7 = Milestone(date(2024, 7, 31), count=80_000)
RATE_30_10 = Milestone(date(2024, 10, 30), rate=Decimal(100))
LONG_31_7 = Milestone(date(2024, 7, 31), count=3_000, unit="binh_long")
ACCOUNTS = Indicator(
    code="accounts",
    name="Tài khoản ĐDĐT",
    short="Tài khoản",
    numerator=("activated",),
    denominator=("quota",),
    target=Decimal(100),
    deadline=date(2024, 12, 31),
    milestones=(LONG_31_7, COUNT_31_7, RATE_30_10),
)


def test_calendar_days_are_the_days_after_today_up_to_the_end() -> None:
    assert days_left(date(2024, 7, 1), date(2024, 7, 31), CALENDAR, frozenset()) == 30
    assert days_left(date(2024, 7, 31), date(2024, 7, 31), CALENDAR, frozenset()) == 0
    assert days_left(date(2024, 8, 1), date(2024, 7, 31), CALENDAR, frozenset()) == 0


def test_working_days_leave_out_weekends_and_the_calendars_days_off() -> None:
    # July 2024 begins on a Monday: 23 weekdays, 22 after the 1st.
    assert days_left(date(2024, 7, 1), date(2024, 7, 31), WORKING, frozenset()) == 22
    assert (
        days_left(date(2024, 7, 1), date(2024, 7, 31), WORKING, frozenset({date(2024, 7, 15)}))
        == 21
    )
    # Friday 30/8 to Friday 6/9: the weekend and National Day (2 and 3/9) are not worked.
    assert days_left(date(2024, 8, 30), date(2024, 9, 6), WORKING, VIETNAM_HOLIDAYS) == 3


@pytest.mark.parametrize(
    ("remaining", "days", "rules", "per_day", "per_week"),
    [
        (100, 30, CALENDAR, 4, 24),  # 3,33/day rounded up; 23,33/week rounded up
        (100, 30, NEAREST, 3, 23),  # to the nearest
        (50, 20, CALENDAR, 3, 18),  # 2,5: up
        (50, 20, NEAREST, 3, 18),  # 2,5: a half goes up too; 17,5 -> 18
        (90, 30, CALENDAR, 3, 21),  # exact: the same both ways
        (90, 30, NEAREST, 3, 21),
        (7, 0, CALENDAR, 7, 49),  # the last day: everything left is due today
    ],
)
def test_daily_quota_rounds_as_configured(
    remaining: int, days: int, rules: PaceRules, per_day: int, per_week: int
) -> None:
    today = date(2024, 7, 1)
    end = date.fromordinal(today.toordinal() + days)
    quota = daily_quota(remaining, today, end, rules, frozenset())
    assert (quota.days, quota.per_day, quota.per_week) == (days, per_day, per_week)


def test_weekly_quota_over_working_days_is_five_days_of_work() -> None:
    # 22 working days left, 1.000 to go: 45,45/day -> 46; 227,3/week -> 228.
    quota = daily_quota(1000, date(2024, 7, 1), date(2024, 7, 31), WORKING, frozenset())
    assert (quota.days, quota.per_day, quota.per_week) == (22, 46, 228)


def test_milestones_of_the_area_and_of_a_unit() -> None:
    # A count for the area is not a unit's; a rate is everyone's; a unit's count is its own.
    assert COUNT_31_7.applies_to(None)
    assert not COUNT_31_7.applies_to("binh_long")
    assert RATE_30_10.applies_to(None)
    assert RATE_30_10.applies_to("binh_long")
    assert LONG_31_7.applies_to("binh_long")
    assert not LONG_31_7.applies_to(None)
    assert not LONG_31_7.applies_to("binh_thuan")


def test_a_missed_milestone_says_how_far_it_got_by_its_date() -> None:
    history = [
        Point(date(2024, 7, 29), 62_400, 100_000),  # the last report by 31/7
        Point(date(2024, 8, 5), 81_000, 100_000),  # too late for 31/7
    ]
    last = last_milestone(ACCOUNTS, None, history, date(2024, 8, 10))
    assert last is not None
    assert last.milestone == COUNT_31_7
    assert not last.reached
    assert last.share == 78  # 62.400 of 80.000
    upcoming = next_milestone(ACCOUNTS, None, history, date(2024, 8, 10))
    assert upcoming is not None
    assert upcoming.milestone == RATE_30_10
    assert (upcoming.goal, upcoming.remaining) == (100_000, 19_000)


def test_a_passed_milestone_is_reached_and_a_units_own_one_counts_for_it() -> None:
    history = [Point(date(2024, 7, 29), 3_100, 4_000)]
    last = last_milestone(ACCOUNTS, "binh_long", history, date(2024, 8, 1))
    assert last is not None
    assert last.milestone == LONG_31_7
    assert last.reached
    # Another unit has no count of its own for 31/7; its next milestone is the rate.
    assert last_milestone(ACCOUNTS, "binh_thuan", history, date(2024, 8, 1)) is None
    upcoming = next_milestone(ACCOUNTS, "binh_thuan", history, date(2024, 8, 1))
    assert upcoming is not None
    assert upcoming.milestone == RATE_30_10


def test_nothing_reported_by_a_milestone_is_neither_reached_nor_missed() -> None:
    history = [Point(date(2024, 8, 5), 81_000, 100_000)]
    assert last_milestone(ACCOUNTS, None, history, date(2024, 8, 10)) is None


def test_the_daily_quota_is_toward_the_next_milestone_else_the_deadline() -> None:
    history = [Point(date(2024, 7, 1), 50_000, 100_000)]
    toward = quota_toward(ACCOUNTS, None, history, date(2024, 7, 1), CALENDAR, frozenset())
    assert toward is not None
    assert (toward.end, toward.remaining, toward.days, toward.per_day) == (
        date(2024, 7, 31),
        30_000,
        30,
        1_000,
    )
    later = quota_toward(ACCOUNTS, None, history, date(2024, 11, 1), CALENDAR, frozenset())
    assert later is not None
    assert (later.end, later.remaining, later.days) == (date(2024, 12, 31), 50_000, 60)


def _config(indicator_extra: dict[str, Any], pace: dict[str, Any] | None = None) -> Any:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    data["indicators"][0].update(indicator_extra)
    if pace is not None:
        data["pace"] = pace
    return build_catalogue(data)


def test_milestones_and_pace_load_from_the_config() -> None:
    cat = _config(
        {
            "milestones": [
                {"date": date(2024, 10, 30), "rate": 100},
                {"date": date(2024, 7, 31), "count": 80000},
                {"date": date(2024, 7, 31), "count": 300, "unit": "binh_long"},
            ]
        },
        {"days": "working", "rounding": "nearest"},
    )
    ind = cat.indicators[0]
    assert [m.on for m in ind.milestones] == [date(2024, 7, 31)] * 2 + [date(2024, 10, 30)]
    assert ind.milestones[-1].rate == 100
    assert cat.pace == PaceRules(working_days=True, round_up=False)
    assert _config({}).pace == PaceRules()


@pytest.mark.parametrize(
    ("milestones", "pace", "message"),
    [
        (
            [{"date": date(2024, 7, 31), "count": 1, "rate": 50}],
            None,
            "indicators[0].milestones[0]: cần đúng một trong count",
        ),
        (
            [{"date": date(2024, 7, 31)}],
            None,
            "indicators[0].milestones[0]: cần đúng một trong count",
        ),
        (
            [{"date": date(2024, 7, 31), "rate": 120}],
            None,
            "indicators[0].milestones[0].rate: phải là số phần trăm",
        ),
        (
            [{"date": "31/7", "count": 1}],
            None,
            "indicators[0].milestones[0].date: phải là ngày",
        ),
        (
            [{"date": date(2024, 7, 31), "count": 1, "unit": "xa_la"}],
            None,
            "indicators[0].milestones[0].unit: đơn vị 'xa_la' không có",
        ),
        (
            [{"date": date(2024, 7, 31), "count": 1}, {"date": date(2024, 7, 31), "rate": 9}],
            None,
            "indicators[0].milestones[1].date: đã có mốc ngày này",
        ),
        ([], {"days": "weekdays"}, 'pace.days: phải là "calendar" hoặc "working"'),
        ([], {"rounding": "down"}, 'pace.rounding: phải là "up" hoặc "nearest"'),
    ],
)
def test_a_wrong_milestone_or_pace_is_one_line_naming_its_key(
    milestones: list[dict[str, Any]], pace: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        _config({"milestones": milestones}, pace)
    assert str(error.value).startswith(message), str(error.value)


def test_the_commented_example_in_the_shipped_config_loads() -> None:
    text = CONFIG_PATH.read_text(encoding="utf-8")
    shipped = build_catalogue(tomllib.loads(text))
    assert not shipped.quotas
    assert all(not i.milestones for i in shipped.indicators)
    example = text.split("# example-begin\n", 1)[1].split("# example-end", 1)[0]
    uncommented = "\n".join(
        line.removeprefix("#").removeprefix(" ") for line in example.split("\n")
    )
    cat = build_catalogue(tomllib.loads(text + "\n" + uncommented))
    accounts = cat.indicator("accounts")
    assert [m.on for m in accounts.milestones] == [date(2024, 7, 31)] * 2 + [date(2024, 10, 30)]
    assert cat.quotas[0].values["binh_long"] == 4500
    assert cat.pace == WORKING
