"""core.periods: which week a report counts for, and whether it is late."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.periods import Calendar, Period, Placement

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = Calendar(tz=VN, due_weekday=0, due_time=time(10, 0), late_window=timedelta(hours=48))


def vn(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=VN)


W47 = Period(2024, 47)
W48 = Period(2024, 48)

# --- Period --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2024-W45", "45/2024", "45 / 2024", "45-2024", "45.2024", "tuần 45/2024", "W45/2024"]
)
def test_parse_both_spellings(text: str) -> None:
    assert Period.parse(text) == Period(2024, 45)


def test_parse_single_digit_week() -> None:
    assert Period.parse("2025-W1") == Period(2025, 1)
    assert Period.parse("1/2025") == Period(2025, 1)


def test_key_label_and_days() -> None:
    p = Period.parse("2024-W45")
    assert p.key == "2024-W45"
    assert str(p) == "2024-W45"
    assert p.label == "tuần 45/2024"
    assert p.monday == date(2024, 11, 4)
    assert p.sunday == date(2024, 11, 10)
    assert Period(2025, 1).key == "2025-W01"


@pytest.mark.parametrize("text", ["", "2024", "2024-45", "W45", "45/24", "abc", "2024-W45x"])
def test_parse_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="not a period"):
        Period.parse(text)


@pytest.mark.parametrize("text", ["2024-W53", "2024-W00", "53/2024", "0/2024"])
def test_parse_refuses_weeks_that_do_not_exist(text: str) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Period.parse(text)


def test_week_53_exists_in_long_years() -> None:
    assert Period.parse("2020-W53").monday == date(2020, 12, 28)


def test_shift_across_year_boundary() -> None:
    assert Period(2024, 52).next() == Period(2025, 1)
    assert Period(2025, 1).previous() == Period(2024, 52)
    assert Period(2020, 53).next() == Period(2021, 1)
    assert Period(2024, 45).shift(-4) == Period(2024, 41)


def test_periods_order_chronologically() -> None:
    assert Period(2024, 52) < Period(2025, 1) < Period(2025, 2)


def test_of_a_day() -> None:
    assert Period.of(date(2024, 12, 30)) == Period(2025, 1)
    assert Period.of(date(2024, 11, 17)) == Period(2024, 46)


# --- Calendar.place ------------------------------------------------------------------------------


def test_due_at_is_monday_ten_local() -> None:
    assert CAL.due_at(W47) == vn(2024, 11, 18, 10, 0)


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        (vn(2024, 11, 16, 15, 0), Placement(W47, late=False)),  # Saturday before
        (vn(2024, 11, 18, 9, 59), Placement(W47, late=False)),
        (vn(2024, 11, 18, 9, 59, 59), Placement(W47, late=False)),
        (vn(2024, 11, 18, 10, 0), Placement(W47, late=True)),  # exactly at the due time
        (vn(2024, 11, 19, 12, 0), Placement(W47, late=True)),
        (vn(2024, 11, 20, 9, 59), Placement(W47, late=True)),
        (vn(2024, 11, 20, 10, 0), Placement(W48, late=False)),  # window closed
        (vn(2024, 11, 24, 23, 59), Placement(W48, late=False)),  # Sunday night
    ],
)
def test_place(sent_at: datetime, expected: Placement) -> None:
    assert CAL.place(sent_at) == expected


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        (datetime(2024, 11, 18, 2, 59, tzinfo=UTC), Placement(W47, late=False)),
        (datetime(2024, 11, 18, 3, 0, tzinfo=UTC), Placement(W47, late=True)),
        (datetime(2024, 11, 20, 2, 59, tzinfo=UTC), Placement(W47, late=True)),
        (datetime(2024, 11, 20, 3, 0, tzinfo=UTC), Placement(W48, late=False)),
        # 23:30 UTC on Sunday is already Monday 06:30 in Vietnam: still on time for week 47
        (datetime(2024, 11, 17, 23, 30, tzinfo=UTC), Placement(W47, late=False)),
    ],
)
def test_place_uses_the_instant_not_the_wall_clock_of_the_sender(
    sent_at: datetime, expected: Placement
) -> None:
    assert CAL.place(sent_at) == expected
    assert CAL.place(sent_at.astimezone(VN)) == expected
    assert CAL.place(sent_at.astimezone(ZoneInfo("America/Los_Angeles"))) == expected


def test_year_boundary() -> None:
    # Monday 2024-12-30 is in ISO week 1 of 2025.
    w1 = Period(2025, 1)
    assert CAL.due_at(w1) == vn(2024, 12, 30, 10, 0)
    assert CAL.place(vn(2024, 12, 28, 9, 0)) == Placement(w1, late=False)
    assert CAL.place(vn(2024, 12, 30, 9, 59)) == Placement(w1, late=False)
    assert CAL.place(vn(2024, 12, 31, 8, 0)) == Placement(w1, late=True)
    assert CAL.place(vn(2025, 1, 1, 10, 0)) == Placement(Period(2025, 2), late=False)
    assert CAL.current(vn(2024, 12, 29, 12, 0)) == w1


def test_place_in_a_named_past_period_is_late() -> None:
    assert CAL.place_in(Period(2024, 45), vn(2024, 11, 16, 8, 0)) == Placement(
        Period(2024, 45), late=True
    )


def test_place_in_before_its_due_time_is_on_time() -> None:
    assert CAL.place_in(W47, vn(2024, 11, 18, 9, 59)) == Placement(W47, late=False)
    assert CAL.place_in(W47, vn(2024, 11, 18, 10, 0)) == Placement(W47, late=True)
    # lateness of a named period does not depend on the late window
    assert CAL.place_in(W47, vn(2024, 12, 1, 10, 0)) == Placement(W47, late=True)


def test_place_in_uses_the_instant() -> None:
    sent = datetime(2024, 11, 18, 2, 59, tzinfo=UTC)
    assert CAL.place_in(W47, sent) == Placement(W47, late=False)


def test_naive_datetime_is_refused() -> None:
    naive = vn(2024, 11, 18, 9, 0).replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive"):
        CAL.place(naive)
    with pytest.raises(ValueError, match="naive"):
        CAL.place_in(W47, naive)
    with pytest.raises(ValueError, match="naive"):
        CAL.current(naive)


def test_other_due_weekday_and_window() -> None:
    friday_17 = Calendar(
        tz=VN, due_weekday=4, due_time=time(17, 0), late_window=timedelta(hours=24)
    )
    assert friday_17.due_at(W47) == vn(2024, 11, 22, 17, 0)
    assert friday_17.place(vn(2024, 11, 22, 16, 59)) == Placement(W47, late=False)
    assert friday_17.place(vn(2024, 11, 23, 16, 59)) == Placement(W47, late=True)
    assert friday_17.place(vn(2024, 11, 23, 17, 0)) == Placement(W48, late=False)


def test_no_late_window_means_never_late() -> None:
    strict = Calendar(tz=VN, late_window=timedelta(0))
    assert strict.place(vn(2024, 11, 18, 10, 0)) == Placement(W48, late=False)


# --- property -------------------------------------------------------------------------------------

_START = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
_END = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp())
ZONES = [VN, UTC, ZoneInfo("America/New_York"), ZoneInfo("Pacific/Kiritimati")]


@settings(max_examples=200)
@given(
    seconds=st.integers(min_value=_START, max_value=_END - 1),
    calendar_tz=st.sampled_from([VN, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]),
    sender_tz=st.sampled_from(ZONES),
    weekday=st.integers(min_value=0, max_value=6),
    due_hour=st.integers(min_value=4, max_value=23),  # clear of the hours clocks skip
    due_minute=st.sampled_from([0, 30, 59]),
    window_hours=st.integers(min_value=0, max_value=24 * 6),
)
def test_placement_brackets_the_moment(
    seconds: int,
    calendar_tz: ZoneInfo,
    sender_tz: ZoneInfo,
    weekday: int,
    due_hour: int,
    due_minute: int,
    window_hours: int,
) -> None:
    cal = Calendar(
        tz=calendar_tz,
        due_weekday=weekday,
        due_time=time(due_hour, due_minute),
        late_window=timedelta(hours=window_hours),
    )
    t = datetime.fromtimestamp(seconds, tz=UTC).astimezone(sender_tz)
    placed = cal.place(t)
    due = cal.due_at(placed.period).astimezone(UTC)
    window = timedelta(hours=window_hours)
    t_utc = t.astimezone(UTC)
    if placed.late:
        assert due <= t_utc < due + window
    else:
        assert due > t_utc
        # ... and it is the nearest such period: the previous one's window has closed
        assert cal.due_at(placed.period.previous()).astimezone(UTC) + window <= t_utc
    assert cal.current(t) == placed.period
    assert cal.place_in(placed.period, t) == placed


def test_late_window_is_elapsed_hours_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = Calendar(tz=berlin, due_weekday=5, due_time=time(10, 0), late_window=timedelta(hours=48))
    week_13 = Period(2024, 13)
    due = cal.due_at(week_13)  # Saturday 2024-03-30 10:00 CET; clocks go forward on Sunday
    sent = due.astimezone(UTC) + timedelta(hours=47, minutes=30)
    assert sent.astimezone(berlin).hour == 10  # 48.5 wall-clock hours after the due time
    assert cal.place(sent) == Placement(week_13, late=True)
    closed = due.astimezone(UTC) + timedelta(hours=48)
    assert cal.place(closed) == Placement(Period(2024, 14), late=False)
