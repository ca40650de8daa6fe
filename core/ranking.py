"""Ranked tables: units sorted by rate, split into met / not met, with change since last week."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from core.catalogue import Catalogue, Indicator, Unit
from core.numbers import percent, rate_pct
from core.text import collate

Values = Mapping[str, int]


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int
    decimals: int

    # Cached: a national ranking reads them several times for each of 3,321 rows.
    @cached_property
    def exact(self) -> Fraction | None:
        return percent(self.numerator, self.denominator)

    @cached_property
    def rate(self) -> Decimal | None:
        return rate_pct(self.numerator, self.denominator, self.decimals)


def ratio(indicator: Indicator, values: Values) -> Ratio | None:
    """The indicator's ratio for one report, or None when a field is missing."""
    if not all(code in values for code in indicator.fields):
        return None
    return Ratio(
        sum(values[c] for c in indicator.numerator),
        sum(values[c] for c in indicator.denominator),
        indicator.decimals,
    )


def total_ratio(indicator: Indicator, reports: Sequence[Values]) -> Ratio | None:
    """A total is the ratio of the sums, never the mean of the rates (over the reports that
    have every field of the indicator)."""
    fields, num_fields, den_fields = indicator.fields, indicator.numerator, indicator.denominator
    numerator = denominator = counted = 0
    for values in reports:
        if all(code in values for code in fields):
            numerator += sum(values[c] for c in num_fields)
            denominator += sum(values[c] for c in den_fields)
            counted += 1
    if not counted:
        return None
    return Ratio(numerator, denominator, indicator.decimals)


def meets(indicator: Indicator, r: Ratio) -> bool | None:
    if indicator.target is None or r.exact is None:
        return None
    return r.exact >= Fraction(indicator.target)


@dataclass(frozen=True)
class Row:
    position: int
    unit: Unit
    values: Values
    ratio: Ratio
    met: bool | None
    change: Decimal | None  # percentage points since the previous period
    extras: tuple[Ratio | None, ...]  # rates of the indicator's `columns`


@dataclass(frozen=True)
class Ranking:
    indicator: Indicator
    rows: tuple[Row, ...]
    total: Ratio | None
    missing: tuple[Unit, ...]  # active units without figures for this indicator
    columns: tuple[Indicator, ...] = ()  # indicators whose rates each row's `extras` hold

    @property
    def met(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.met)

    @property
    def not_met(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.met)


def rank(
    catalogue: Catalogue,
    indicator: Indicator,
    current: Mapping[str, Values],
    previous: Mapping[str, Values] | None = None,
) -> Ranking:
    """Sort by the exact rate, highest first; ties by unit name so the order is stable."""
    previous = previous or {}
    columns = [catalogue.indicator(c) for c in indicator.columns]
    scored: list[tuple[Unit, Values, Ratio]] = []
    missing: list[Unit] = []
    for unit in catalogue.units:
        values = current.get(unit.code)
        r = ratio(indicator, values) if values is not None else None
        if r is None:
            if not unit.exempt:
                missing.append(unit)
            continue
        scored.append((unit, values or {}, r))

    def order(item: tuple[Unit, Values, Ratio]) -> tuple[float, Fraction, str]:
        exact = item[2].exact
        exact = exact if exact is not None else Fraction(-1)
        # The float first only to be quick: int / int is correctly rounded, so a smaller
        # float means a smaller rate, and equal floats fall through to the exact Fraction.
        quick = item[2].numerator * 100 / item[2].denominator if item[2].denominator > 0 else -1.0
        return (-quick, -exact, collate(item[0].name))

    scored.sort(key=order)
    rows = []
    for position, (unit, values, r) in enumerate(scored, start=1):
        before = previous.get(unit.code)
        old = ratio(indicator, before) if before is not None else None
        change = None
        if old is not None and old.rate is not None and r.rate is not None:
            # The difference of the printed rates, so the column agrees with what readers see.
            change = r.rate - old.rate
        rows.append(
            Row(
                position=position,
                unit=unit,
                values=values,
                ratio=r,
                met=meets(indicator, r),
                change=change,
                extras=tuple(ratio(col, values) for col in columns),
            )
        )
    total = total_ratio(indicator, [values for _, values, _ in scored])
    return Ranking(indicator, tuple(rows), total, tuple(missing), tuple(columns))


def most_improved(rankings: Sequence[Ranking], limit: int = 3) -> list[tuple[Row, Indicator]]:
    """Rows with the largest rise in rate since last week, across indicators."""
    rises = [
        (row, ranking.indicator)
        for ranking in rankings
        for row in ranking.rows
        if row.change is not None and row.change > 0
    ]
    rises.sort(key=lambda item: (-(item[0].change or 0), collate(item[0].unit.name)))
    return rises[:limit]
