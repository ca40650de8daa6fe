"""core.ranking and core.pace on small hand-made figures."""

from __future__ import annotations

import copy
import tomllib
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from core.catalogue import Catalogue, Indicator, PaceRules, build_catalogue
from core.pace import Point, carry_forward, compute_pace, daily_quota, points
from core.ranking import Ratio, meets, most_improved, rank, ratio, total_ratio

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
RAW: dict[str, Any] = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
CATALOGUE: Catalogue = build_catalogue(RAW)
EID = CATALOGUE.indicator("eid_verified")  # eid_verified / citizen_id_issued, target 80, 2 places


def eid(verified: int, issued: int, activated: int | None = None) -> dict[str, int]:
    values = {"eid_verified": verified, "citizen_id_issued": issued}
    if activated is not None:
        values["eid_activated"] = activated
    return values


# --- ratios ----------------------------------------------------------------------------------


def test_ratio_sums_fields_and_needs_all_of_them() -> None:
    non_cash = CATALOGUE.indicator("non_cash")
    values = {"btxh_paid": 3, "ncc_paid": 1, "btxh_total": 10, "ncc_total": 6}
    assert ratio(non_cash, values) == Ratio(4, 16, 2)
    assert ratio(non_cash, {"btxh_paid": 3, "btxh_total": 10}) is None


def test_ratio_rate_and_exact() -> None:
    r = Ratio(1, 32, 2)
    assert r.exact == Fraction(100, 32)
    assert r.rate == Decimal("3.13")
    assert Ratio(0, 0, 2).rate is None


def test_meets_is_exact_against_the_target() -> None:
    assert meets(EID, Ratio(80, 100, 2)) is True
    assert meets(EID, Ratio(79_999, 100_000, 2)) is False  # displays as 80,00% but is below
    assert meets(EID, Ratio(0, 0, 2)) is None
    assert meets(CATALOGUE.indicator("non_cash_btxh"), Ratio(1, 2, 2)) is None  # no target


# --- rank -------------------------------------------------------------------------------------


def test_order_is_by_exact_rate_even_when_rounded_rates_tie() -> None:
    current = {
        "binh_an": eid(80_001, 100_000),  # 80.001% -> 80.00
        "binh_long": eid(80_004, 100_000),  # 80.004% -> 80.00
    }
    ranking = rank(CATALOGUE, EID, current)
    assert [r.ratio.rate for r in ranking.rows] == [Decimal("80.00"), Decimal("80.00")]
    # alphabetical order would put Bình An first; the exact rate puts Bình Long first
    assert [r.unit.code for r in ranking.rows] == ["binh_long", "binh_an"]
    assert [r.position for r in ranking.rows] == [1, 2]


def test_equal_exact_rates_are_ordered_by_vietnamese_name() -> None:
    current = {"binh_dong": eid(1, 2), "binh_duong": eid(2, 4), "binh_an": eid(5, 10)}
    ranking = rank(CATALOGUE, EID, current)
    # Bình An < Bình Dương < Bình Đông: d before đ
    assert [r.unit.code for r in ranking.rows] == ["binh_an", "binh_duong", "binh_dong"]


def test_met_and_not_met_split_at_the_target() -> None:
    current = {
        "binh_an": eid(9_000, 10_000),  # 90%
        "binh_chau": eid(80, 100),  # exactly 80%: met
        "binh_long": eid(79_999, 100_000),  # 79.999%: not met, though shown as 80,00%
        "binh_my": eid(10, 100),
    }
    ranking = rank(CATALOGUE, EID, current)
    assert [r.unit.code for r in ranking.met] == ["binh_an", "binh_chau"]
    assert [r.unit.code for r in ranking.not_met] == ["binh_long", "binh_my"]
    long_row = ranking.not_met[0]
    assert long_row.ratio.rate == Decimal("80.00")
    assert long_row.met is False


def test_total_is_the_ratio_of_sums_not_the_mean_of_rates() -> None:
    current = {"binh_an": eid(1, 2), "binh_long": eid(99, 100)}  # 50% and 99%
    ranking = rank(CATALOGUE, EID, current)
    assert ranking.total == Ratio(100, 102, 2)
    assert ranking.total.rate == Decimal("98.04")  # 100/102; the mean of rates would be 74.50
    assert total_ratio(EID, list(current.values())) == Ratio(100, 102, 2)


def test_total_skips_reports_without_the_indicator() -> None:
    assert total_ratio(EID, [eid(1, 2), {"eid_verified": 5}]) == Ratio(1, 2, 2)
    assert total_ratio(EID, [{"eid_verified": 5}]) is None


def test_change_since_last_week_in_percentage_points() -> None:
    current = {"binh_an": eid(8_125, 10_000), "binh_long": eid(5_000, 10_000), "binh_my": eid(1, 3)}
    previous = {"binh_an": eid(7_000, 10_000), "binh_long": eid(5_100, 10_000)}
    ranking = rank(CATALOGUE, EID, current, previous)
    change = {r.unit.code: r.change for r in ranking.rows}
    assert change == {
        "binh_an": Decimal("11.25"),  # 81.25% - 70%
        "binh_long": Decimal("-1.00"),
        "binh_my": None,  # no figures last week
    }


def test_change_is_the_difference_of_the_printed_rates() -> None:
    # 10.005% is printed 10,01% and 0.004% is printed 0,00%: the column shows +10,01, what a
    # reader computes from the two printed rates (the exact rise, 10.001, would print 10,00)
    ranking = rank(CATALOGUE, EID, {"binh_an": eid(10_005, 100_000)}, {"binh_an": eid(4, 100_000)})
    row = ranking.rows[0]
    assert row.change == Decimal("10.01")
    old_rate = Ratio(4, 100_000, 2).rate
    assert row.ratio.rate is not None
    assert old_rate is not None
    assert row.change == row.ratio.rate - old_rate


def test_missing_units_and_exempt_units() -> None:
    data = copy.deepcopy(RAW)
    for unit in data["units"]:
        if unit["code"] == "binh_my":
            unit["exempt"] = True
    catalogue = build_catalogue(data)
    current = {"binh_an": eid(1, 2), "binh_long": {"eid_verified": 5}}  # Bình Long is incomplete
    ranking = rank(catalogue, catalogue.indicator("eid_verified"), current)
    missing = {u.code for u in ranking.missing}
    assert "binh_long" in missing
    assert "binh_my" not in missing
    assert "binh_an" not in missing
    assert len(missing) == 22 - 2  # all but the one ranked and the exempt one


def test_zero_denominator_ranks_last_with_no_rate() -> None:
    current = {"binh_an": eid(0, 0), "binh_long": eid(5, 10)}
    ranking = rank(CATALOGUE, EID, current)
    assert [r.unit.code for r in ranking.rows] == ["binh_long", "binh_an"]
    assert ranking.rows[1].ratio.rate is None
    assert ranking.rows[1].met is None
    assert ranking.total == Ratio(5, 10, 2)


def test_zero_percent_ranks_above_no_rate() -> None:
    current = {"binh_an": eid(0, 0), "binh_long": eid(0, 10)}  # no rate, and 0%
    ranking = rank(CATALOGUE, EID, current)
    assert [r.unit.code for r in ranking.rows] == ["binh_long", "binh_an"]


def test_extras_hold_the_column_rates() -> None:
    ranking = rank(CATALOGUE, EID, {"binh_an": eid(8, 10, activated=4)})
    assert [c.code for c in ranking.columns] == ["eid_activated"]
    assert ranking.rows[0].extras == (Ratio(4, 8, 2),)


def test_most_improved_takes_the_largest_rises_only() -> None:
    current = {"binh_an": eid(90, 100), "binh_long": eid(60, 100), "binh_my": eid(50, 100)}
    previous = {"binh_an": eid(85, 100), "binh_long": eid(40, 100), "binh_my": eid(55, 100)}
    ranking = rank(CATALOGUE, EID, current, previous)
    top = most_improved([ranking])
    assert [(row.unit.code, row.change) for row, _ in top] == [
        ("binh_long", Decimal("20.00")),
        ("binh_an", Decimal("5.00")),
    ]


# --- pace -------------------------------------------------------------------------------------


def indicator(target: str | None = "80", deadline: date | None = date(2024, 12, 31)) -> Indicator:
    return Indicator(
        code="x",
        name="X",
        short="X",
        numerator=("n",),
        denominator=("d",),
        target=None if target is None else Decimal(target),
        deadline=deadline,
    )


TODAY = date(2024, 11, 18)


def weekly(numerators: list[int], denominator: int = 1001, last: date = TODAY) -> list[Point]:
    start = last - timedelta(weeks=len(numerators) - 1)
    return [Point(start + timedelta(weeks=i), n, denominator) for i, n in enumerate(numerators)]


def test_pace_on_track() -> None:
    # the last 4 weeks rose 540 -> 700 (40/week); the last week alone rose 60, all weeks 33.3
    history = weekly([500, 520, 540, 580, 620, 640, 700])
    pace = compute_pace(indicator(), history, TODAY)
    assert pace is not None
    assert pace.target_count == 801  # ceil(80% x 1001 = 800.8)
    assert pace.remaining == 101
    assert pace.days_left == 43
    # What is needed: 101 / 43 = 2,35 a day, 16,4 a week, rounded up (core.pace.daily_quota).
    need = daily_quota(pace.remaining, TODAY, date(2024, 12, 31), PaceRules(), frozenset())
    assert (need.days, need.per_day, need.per_week) == (43, 3, 17)
    assert pace.weekly_pace == Fraction(40)
    assert pace.projected == TODAY + timedelta(days=18)  # ceil(101 / 40 x 7 = 17.675)
    assert not pace.met
    assert not pace.at_risk


def test_target_count_is_not_rounded_up_when_exact() -> None:
    pace = compute_pace(indicator(), weekly([700, 760], denominator=1000), TODAY)
    assert pace is not None
    assert pace.target_count == 800
    assert pace.remaining == 40


def test_pace_at_risk_when_projected_after_the_deadline() -> None:
    history = weekly([690, 692, 694, 696, 700])  # 2/week, 101 short
    pace = compute_pace(indicator(), history, TODAY)
    assert pace is not None
    assert pace.weekly_pace == Fraction(10, 4)
    assert pace.projected is not None
    assert pace.projected > date(2024, 12, 31)
    assert pace.at_risk


@pytest.mark.parametrize("history", [weekly([700]), weekly([690, 700])])
def test_too_few_reports_give_no_pace_and_no_verdict(history: list[Point]) -> None:
    # The first weeks: "chưa đủ số liệu", not also "sẽ không đạt" nor a date decades away.
    pace = compute_pace(indicator(), history, TODAY)
    assert pace is not None
    assert pace.weekly_pace is None
    assert pace.projected is None
    assert not pace.at_risk


@pytest.mark.parametrize(
    "history",
    [
        weekly([700, 700, 700]),  # flat
        weekly([720, 710, 700]),  # falling
    ],
)
def test_pace_at_risk_without_a_positive_pace_from_three_reports(history: list[Point]) -> None:
    pace = compute_pace(indicator(), history, TODAY)
    assert pace is not None
    assert pace.projected is None
    assert pace.at_risk


def test_met_when_nothing_remains() -> None:
    pace = compute_pace(indicator(), weekly([700, 801]), TODAY)
    assert pace is not None
    assert pace.remaining == 0
    assert pace.met
    assert pace.projected == TODAY
    assert not pace.at_risk


def test_one_short_of_the_target_is_not_met() -> None:
    pace = compute_pace(indicator(), weekly([700, 800]), TODAY)  # 79.92%
    assert pace is not None
    assert pace.remaining == 1
    assert not pace.met


def test_past_deadline_needs_everything_at_once() -> None:
    pace = compute_pace(indicator(deadline=date(2024, 11, 1)), weekly([700, 760]), TODAY)
    assert pace is not None
    assert pace.days_left == 0
    need = daily_quota(pace.remaining, TODAY, date(2024, 11, 1), PaceRules(), frozenset())
    assert need.per_day == 41
    assert pace.at_risk


def test_without_deadline_there_is_no_risk_and_no_daily_need() -> None:
    pace = compute_pace(indicator(deadline=None), weekly([700]), TODAY)
    assert pace is not None
    assert pace.days_left is None
    assert not pace.at_risk


def test_no_pace_without_target_or_history() -> None:
    assert compute_pace(indicator(target=None), weekly([1, 2]), TODAY) is None
    assert compute_pace(indicator(), [], TODAY) is None


def test_points_skip_periods_without_the_indicator() -> None:
    series = [(date(2024, 11, 4), {"n": 1, "d": 2}), (date(2024, 11, 11), {"n": 3})]
    assert points(indicator(), series) == [Point(date(2024, 11, 4), 1, 2)]


def test_carry_forward_keeps_a_silent_unit_at_its_last_figures() -> None:
    w1, w2 = date(2024, 11, 4), date(2024, 11, 11)
    out = carry_forward(
        ["a", "b"],
        [(w1, {"a": {"n": 10}, "b": {"n": 5}}), (w2, {"a": {"n": 12}})],
    )
    assert out == [(w1, {"n": 15}), (w2, {"n": 17})]
