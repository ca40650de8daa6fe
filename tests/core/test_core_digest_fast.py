"""The digest's fast paths give exactly what the plain definitions give.

`ratio` and `total_ratio` without the field check, `rank` with integer comparisons and a
two-step sort, and `risk_check` in integers are there for speed only (a national digest runs
them for 3,321 units and every indicator); each is checked here against the straightforward
version as first written.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import assume, given
from hypothesis import strategies as st

from core.catalogue import Catalogue, Indicator, Unit, build_catalogue
from core.numbers import percent, rate_pct
from core.pace import UnitTrend, compute_pace, points, risk_check
from core.ranking import Ranking, Ratio, rank, ratio, total_ratio
from core.submission import Values
from core.text import collate

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
CATALOGUE: Catalogue = build_catalogue(tomllib.loads(CONFIG.read_text(encoding="utf-8")))
FIELDS = sorted({f for i in CATALOGUE.indicators for f in i.fields})

# --- the reference versions, as first written --------------------------------------------------


def reference_ratio(indicator: Indicator, values: Values) -> Ratio | None:
    if not all(code in values for code in indicator.fields):
        return None
    return Ratio(
        sum(values[c] for c in indicator.numerator),
        sum(values[c] for c in indicator.denominator),
        indicator.decimals,
    )


def reference_meets(indicator: Indicator, r: Ratio) -> bool | None:
    if indicator.target is None or r.exact is None:
        return None
    return r.exact >= Fraction(indicator.target)


def reference_rank(
    catalogue: Catalogue,
    indicator: Indicator,
    current: Mapping[str, Values],
    previous: Mapping[str, Values],
) -> list[tuple[int, Unit, Ratio, bool | None, Decimal | None, tuple[Ratio | None, ...]]]:
    columns = [catalogue.indicator(c) for c in indicator.columns]
    scored = []
    for unit in catalogue.units:
        values = current.get(unit.code)
        r = reference_ratio(indicator, values) if values is not None else None
        if r is not None:
            scored.append((unit, values or {}, r))

    def exact(r: Ratio) -> Fraction:
        return r.exact if r.exact is not None else Fraction(-1)

    scored.sort(key=lambda item: (-exact(item[2]), collate(item[0].name)))
    out = []
    for position, (unit, values, r) in enumerate(scored, start=1):
        before = previous.get(unit.code)
        old = reference_ratio(indicator, before) if before is not None else None
        change = None
        if old is not None and old.rate is not None and r.rate is not None:
            change = r.rate - old.rate
        extras = tuple(reference_ratio(col, values) for col in columns)
        out.append((position, unit, r, reference_meets(indicator, r), change, extras))
    return out


def rows_of(ranking: Ranking) -> list[object]:
    return [(r.position, r.unit, r.ratio, r.met, r.change, r.extras) for r in ranking.rows]


# --- strategies ---------------------------------------------------------------------------------

COUNTS = st.integers(min_value=-3, max_value=10**6) | st.sampled_from([0, 1, 10**17, 10**17 + 1])
VALUES = st.dictionaries(st.sampled_from(FIELDS), COUNTS, max_size=len(FIELDS))
UNITS = CATALOGUE.units[:12]
REPORTS = st.dictionaries(st.sampled_from([u.code for u in UNITS]), VALUES)


@given(st.sampled_from(CATALOGUE.indicators), VALUES)
def test_ratio_is_the_reference_ratio(indicator: Indicator, values: Values) -> None:
    assert ratio(indicator, values) == reference_ratio(indicator, values)


@given(st.sampled_from(CATALOGUE.indicators), st.lists(VALUES, max_size=6))
def test_total_ratio_is_the_ratio_of_the_sums(indicator: Indicator, reports: list[Values]) -> None:
    counted = [r for v in reports if (r := reference_ratio(indicator, v)) is not None]
    expected = (
        Ratio(
            sum(r.numerator for r in counted),
            sum(r.denominator for r in counted),
            indicator.decimals,
        )
        if counted
        else None
    )
    assert total_ratio(indicator, reports) == expected


@given(st.sampled_from(CATALOGUE.ranked_indicators), REPORTS, REPORTS)
def test_rank_is_the_reference_ranking(
    indicator: Indicator, current: dict[str, Values], previous: dict[str, Values]
) -> None:
    ranking = rank(CATALOGUE, indicator, current, previous)
    assert rows_of(ranking) == reference_rank(CATALOGUE, indicator, current, previous)
    for row in ranking.rows:  # the same printed rates too (exponent included)
        assert str(row.change) == str(
            next(
                c
                for p, _, _, _, c, _ in reference_rank(CATALOGUE, indicator, current, previous)
                if p == row.position
            )
        )


def test_ties_equal_as_floats_but_not_exactly_keep_the_exact_order() -> None:
    indicator = CATALOGUE.indicator("eid_verified")
    big = 10**17
    a, b, c = CATALOGUE.units[:3]
    # a and c equal exactly, b higher by less than a float can tell.
    current = {
        a.code: {"eid_verified": big, "citizen_id_issued": big + 1},
        b.code: {"eid_verified": big + 1, "citizen_id_issued": big + 2},
        c.code: {"eid_verified": 2 * big, "citizen_id_issued": 2 * big + 2},
    }
    ranking = rank(CATALOGUE, indicator, current, {})
    assert rows_of(ranking) == reference_rank(CATALOGUE, indicator, current, {})
    assert ranking.rows[0].unit == b


def test_the_rate_is_cached_and_equals_rate_pct() -> None:
    r = Ratio(2, 3, 2)
    assert r.rate == rate_pct(2, 3, 2) == Decimal("66.67")
    assert r.rate is r.rate
    assert r.exact == percent(2, 3)
    assert Ratio(1, 0, 2).rate is None


# --- pace: at risk ------------------------------------------------------------------------------

SERIES = st.lists(st.tuples(st.integers(min_value=1, max_value=9), VALUES), max_size=8).map(
    # ascending due dates a week or more apart, as the digest's series
    lambda steps: [
        (date(2024, 9, 1) + timedelta(weeks=sum(s for s, _ in steps[: n + 1])), values)
        for n, (_, values) in enumerate(steps)
    ]
)


@given(
    st.sampled_from(CATALOGUE.indicators),
    SERIES,
    st.dates(min_value=date(2024, 6, 1), max_value=date(2025, 6, 1)),
)
def test_risk_check_is_compute_pace_at_risk(
    indicator: Indicator, series: UnitTrend, today: date
) -> None:
    try:
        pace = compute_pace(indicator, points(indicator, series), today)
    except OverflowError:  # projected beyond year 9999: compute_pace cannot say
        assume(False)
        return
    expected = pace is not None and pace.at_risk
    assert risk_check(indicator, today)(series) is expected


def test_a_unit_with_a_slow_pace_is_at_risk_and_a_fast_one_is_not() -> None:
    indicator = CATALOGUE.indicator("eid_verified")
    assert indicator.deadline is not None
    today = indicator.deadline - timedelta(days=28)
    start = today - timedelta(weeks=4)

    def week(n: int, verified: int) -> tuple[date, Values]:
        return start + timedelta(weeks=n), {"eid_verified": verified, "citizen_id_issued": 1000}

    slow = [week(n, 500 + n) for n in range(5)]
    fast = [week(n, 500 + 80 * n) for n in range(5)]
    check = risk_check(indicator, today)
    assert check(slow) is True
    assert check(fast) is False
    assert check([]) is False
