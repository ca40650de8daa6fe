"""core.periods.ReportPeriod (months, quarters, years: which weeks belong to them, how they
are named) and core.summary (late counts, milestones met and missed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.catalogue import Catalogue, Milestone
from core.periods import Calendar, Period, ReportPeriod
from core.summary import WeekReports, lateness, summarize
from core.text import key

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = Calendar(tz=VN, due_weekday=0, due_time=time(10, 0))
TODAY = date(2025, 2, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thang 11/2024", ReportPeriod.month(2024, 11)),
        ("tháng 11/2024", ReportPeriod.month(2024, 11)),
        ("Tháng 11 năm 2024", ReportPeriod.month(2024, 11)),
        ("thang11-2024", ReportPeriod.month(2024, 11)),
        ("thang 11", ReportPeriod.month(2024, 11)),  # the latest November begun by TODAY
        ("thang 1", ReportPeriod.month(2025, 1)),
        ("thang 2", ReportPeriod.month(2025, 2)),
        ("quy 4/2024", ReportPeriod.quarter(2024, 4)),
        ("Quý IV/2024", ReportPeriod.quarter(2024, 4)),
        ("quý 4", ReportPeriod.quarter(2024, 4)),
        ("quy 1", ReportPeriod.quarter(2025, 1)),
        ("nam 2024", ReportPeriod.whole_year(2024)),
        ("Năm 2024", ReportPeriod.whole_year(2024)),
    ],
)
def test_spoken_periods(text: str, expected: ReportPeriod) -> None:
    found = ReportPeriod.find(key(f"docx {text}"), TODAY)
    assert found == (expected, "docx")


@pytest.mark.parametrize(
    "text", ["thang 13/2024", "thang 0", "quy 5", "quy V", "nam 24", "nam", "thang", "quy abc"]
)
def test_impossible_periods_are_errors(text: str) -> None:
    with pytest.raises(ValueError, match=r"^(no|not a) "):
        ReportPeriod.find(key(text), TODAY)


@pytest.mark.parametrize("text", ["", "docx", "2024-W47", "47/2024", "vietnam", "thangmay"])
def test_no_period_word_is_no_period(text: str) -> None:
    assert ReportPeriod.find(key(text), TODAY) is None


def test_keys_of_the_command_line() -> None:
    assert ReportPeriod.parse_key("month", "2024-11") == ReportPeriod.month(2024, 11)
    assert ReportPeriod.parse_key("quarter", "2024-Q4") == ReportPeriod.quarter(2024, 4)
    assert ReportPeriod.parse_key("year", "2024") == ReportPeriod.whole_year(2024)
    for kind, text in [("month", "2024-13"), ("quarter", "2024-Q5"), ("year", "24")]:
        with pytest.raises(ValueError, match=r"^(no|not a) "):
            ReportPeriod.parse_key(kind, text)  # type: ignore[arg-type]


def test_labels_as_the_letters_write_them() -> None:
    assert ReportPeriod.month(2024, 11).label == "tháng 11/2024"
    assert ReportPeriod.quarter(2024, 1).label == "quý I/2024"
    assert ReportPeriod.whole_year(2024).label == "năm 2024"


def test_weeks_by_due_date() -> None:
    # Mondays 4, 11, 18 and 25 November 2024; Monday 30 December 2024 is week 1 of 2025.
    assert [p.key for p in ReportPeriod.month(2024, 11).weeks(CAL)] == [
        "2024-W45",
        "2024-W46",
        "2024-W47",
        "2024-W48",
    ]
    december = ReportPeriod.month(2024, 12).weeks(CAL)
    assert december[-1] == Period(2025, 1)
    # Week 40 of 2024 is due Monday 30 September: the third quarter's.
    assert ReportPeriod.quarter(2024, 3).weeks(CAL)[-1] == Period(2024, 40)
    assert ReportPeriod.quarter(2024, 4).weeks(CAL)[0] == Period(2024, 41)


def test_a_due_date_moved_by_a_holiday_moves_its_week() -> None:
    # Monday 30 December 2024 closed: week 1 of 2025 is due Tuesday 31, still in December;
    # with the 30th and the 31st closed it is due on Thursday 2 January 2025.
    closed = frozenset({date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 1)})
    cal = replace(CAL, closed_days=closed)
    assert Period(2025, 1) not in ReportPeriod.month(2024, 12).weeks(cal)
    assert ReportPeriod.month(2025, 1).weeks(cal)[0] == Period(2025, 1)


months = st.builds(ReportPeriod.month, st.integers(2000, 2060), st.integers(1, 12))
quarters = st.builds(ReportPeriod.quarter, st.integers(2000, 2060), st.integers(1, 4))
years = st.builds(ReportPeriod.whole_year, st.integers(2000, 2060))


@settings(max_examples=60, deadline=None)
@given(st.one_of(months, quarters, years))
def test_label_and_key_read_back(period: ReportPeriod) -> None:
    assert ReportPeriod.find(key(period.label), TODAY) == (period, "")
    assert ReportPeriod.parse_key(period.kind, period.key) == period
    assert period.next().previous() == period
    assert period.next().first_day == period.last_day + timedelta(days=1)


@settings(max_examples=40, deadline=None)
@given(st.integers(2000, 2060), st.integers(0, 6))
def test_every_week_in_exactly_one_month_and_the_months_make_the_year(
    year: int, weekday: int
) -> None:
    cal = replace(CAL, due_weekday=weekday)
    by_month = [ReportPeriod.month(year, m).weeks(cal) for m in range(1, 13)]
    by_quarter = [ReportPeriod.quarter(year, q).weeks(cal) for q in range(1, 5)]
    whole = ReportPeriod.whole_year(year).weeks(cal)
    assert [w for m in by_month for w in m] == list(whole)
    assert [w for q in by_quarter for w in q] == list(whole)
    # Consecutive weeks: nothing falls between two years either.
    following = ReportPeriod.whole_year(year + 1).weeks(cal)
    assert whole[-1].next() == following[0]
    for week in whole:
        assert cal.due_at(week).date().year == year


# --- core.summary ---------------------------------------------------------------------------


def _week(p: Period, values: dict, late: frozenset[str] = frozenset()) -> WeekReports:
    return WeekReports(p, CAL.due_at(p).date(), values, {u: u in late for u in values})


def test_late_and_missing_weeks_leave_out_skipped_weeks_and_excused_units(
    catalogue: Catalogue,
) -> None:
    codes = [u.code for u in catalogue.units]
    w45, w46, w47 = Period(2024, 45), Period(2024, 46), Period(2024, 47)
    cal = replace(
        catalogue.calendar,
        skip_weeks=frozenset({w47.key}),
        excused=frozenset({(w46.key, "binh_an")}),
    )
    cat = replace(catalogue, calendar=cal)
    everyone = {c: {"eid_verified": 1, "citizen_id_issued": 2} for c in codes}
    weeks = [
        _week(w45, everyone, late=frozenset({"binh_long", "chau_o"})),
        _week(w46, {c: v for c, v in everyone.items() if c not in ("binh_an", "binh_tri")}),
        _week(w47, {}, late=frozenset()),  # skipped: nobody is missing
    ]
    weeks[1] = WeekReports(w46, weeks[1].due, weeks[1].values, {"binh_long": True})
    found = {x.unit.code: (x.late, x.missing) for x in lateness(cat, weeks)}
    assert found == {
        "binh_long": ((w45, w46), ()),
        "chau_o": ((w45,), ()),
        "binh_tri": ((), (w46,)),
    }
    # Most late weeks first.
    assert next(x.unit.code for x in lateness(cat, weeks)) == "binh_long"


def test_milestones_of_the_period_count_and_rate(catalogue: Catalogue) -> None:
    ind = catalogue.indicator("eid_verified")
    milestones = (
        Milestone(on=date(2024, 11, 12), rate=Decimal(50)),  # after week 46's due (11/11)
        Milestone(on=date(2024, 11, 20), count=250),  # the area's count
        Milestone(on=date(2024, 11, 20), count=120, unit="binh_an"),
        Milestone(on=date(2024, 12, 20), rate=Decimal(90)),  # another month's
    )
    cat = replace(
        catalogue,
        indicators=tuple(
            replace(i, milestones=milestones) if i.code == ind.code else i
            for i in catalogue.indicators
        ),
    )
    w45, w46, w47 = Period(2024, 45), Period(2024, 46), Period(2024, 47)
    weeks = [
        _week(w45, {"binh_an": {"eid_verified": 40, "citizen_id_issued": 100}}),
        _week(w46, {"binh_long": {"eid_verified": 60, "citizen_id_issued": 100}}),
        _week(w47, {"binh_an": {"eid_verified": 130, "citizen_id_issued": 200}}),
    ]
    summary = summarize(cat, ReportPeriod.month(2024, 11), weeks, [], date(2024, 12, 2))
    assert summary is not None
    results = summary.milestones["eid_verified"]
    assert [r.milestone for r in results] == list(milestones[:3])
    half, area, own = results
    # 12/11: Bình An still at its week 45 figures (40 %), Bình Long at 60 %.
    assert [u.code for u in half.met] == ["binh_long"]
    assert [u.code for u in half.missed] == ["binh_an"]
    # The area: (40 + 60) / (100 + 100) is exactly 50 %.
    assert half.area is not None
    assert (half.area.done, half.area.goal) == (100, 100)
    assert half.area.reached
    # 20/11: week 47 (due 18/11) counts: 130 + 60 = 190 of the area's 250.
    assert area.met == area.missed == ()
    assert area.area is not None
    assert (area.area.done, area.area.reached) == (190, False)
    assert [u.code for u in own.met] == ["binh_an"]
    assert own.area is None
    # The end figures and the change: from each unit's first report of the period.
    assert summary.end["binh_an"] == {"eid_verified": 130, "citizen_id_issued": 200}
    verified = next(r for r in summary.rankings if r.indicator.code == "eid_verified")
    row = next(r for r in verified.rows if r.unit.code == "binh_an")
    assert row.change == Decimal("25.00")


def test_a_period_without_reports_is_none(catalogue: Catalogue) -> None:
    weeks = [_week(Period(2024, 45), {})]
    assert summarize(catalogue, ReportPeriod.month(2024, 11), weeks, [], TODAY) is None
