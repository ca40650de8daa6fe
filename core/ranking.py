"""Ranked tables: units sorted by rate, split into met / not met, with change since last week."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Generic, NamedTuple, TypeVar, overload

from core.catalogue import Catalogue, Indicator, Unit
from core.numbers import percent, rate_pct
from core.quotas import count_cells
from core.submission import Values
from core.text import collate

T = TypeVar("T")


class _Once(Generic[T]):
    """`functools.cached_property` without its lock (Python 3.11 takes an RLock on every
    first read, which cost more than the rate itself in a national digest)."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Once[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> T | _Once[T]:
        if obj is None:
            return self
        value = self.compute(obj)
        obj.__dict__[self.name] = value  # later reads find it before this (non-data) descriptor
        return value


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int
    decimals: int
    truncate: bool = False  # the indicator's `rounding = "down"`

    # Cached: a national ranking reads them several times for each of 3,321 rows.
    @_Once
    def exact(self) -> Fraction | None:
        return percent(self.numerator, self.denominator)

    @_Once
    def rate(self) -> Decimal | None:
        return rate_pct(self.numerator, self.denominator, self.decimals, self.truncate)


def ratio(indicator: Indicator, values: Values) -> Ratio | None:
    """The indicator's ratio for one report, or None when a field is missing."""
    both = counts(indicator, values)
    if both is None:
        return None
    return Ratio(both[0], both[1], indicator.decimals, indicator.truncate)


def counts(indicator: Indicator, values: Values) -> tuple[int, int] | None:
    """`ratio`'s numerator and denominator without the Ratio (None: a field is missing)."""
    # The numerator and denominator together are exactly the indicator's fields, so a
    # missing field is a KeyError here (cheaper than checking every field first).
    numerator = denominator = 0
    try:
        for code in indicator.numerator:
            numerator += values[code]
        for code in indicator.denominator:
            denominator += values[code]
    except KeyError:
        return None
    return numerator, denominator


def total_ratio(indicator: Indicator, reports: Sequence[Values]) -> Ratio | None:
    """A total is the ratio of the sums, never the mean of the rates (over the reports that
    have every field of the indicator)."""
    numerator = denominator = counted = 0
    for values in reports:
        both = counts(indicator, values)
        if both is None:
            continue
        n, d = both
        numerator += n
        denominator += d
        counted += 1
    if not counted:
        return None
    return Ratio(numerator, denominator, indicator.decimals, indicator.truncate)


def meets(indicator: Indicator, r: Ratio) -> bool | None:
    if indicator.target is None or r.exact is None:
        return None
    return r.exact >= Fraction(indicator.target)


def count_columns(indicator: Indicator, row: Row) -> list[int | None]:
    """The indicator's `counts` columns of one ranked row, in order (core.quotas.count_cells)."""
    codes = [code for code, _ in indicator.counts]
    return count_cells(codes, row.values, row.ratio.numerator, row.ratio.denominator)


class Row(NamedTuple):
    """One ranked unit. A tuple, not a frozen dataclass: a national digest makes 20,000 of
    them, and a NamedTuple is much cheaper to build (build_digest in docs/PERFORMANCE.md)."""

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

    scored = _sorted(scored)
    met = _meets(indicator)
    scale = 100 * 10**indicator.decimals
    rows = []
    for position, (unit, values, r) in enumerate(scored, start=1):
        before = previous.get(unit.code)
        old = counts(indicator, before) if before is not None else None
        change = None
        if old is not None and old[1] > 0 and r.denominator > 0:
            # The difference of the printed rates, so the column agrees with what readers see.
            if r.numerator >= 0 and old[0] >= 0 and not indicator.truncate:
                # rate_pct's integers, subtracted before making the Decimal (same value and
                # exponent as subtracting the two Decimals).
                change = Decimal(
                    _scaled(r.numerator, r.denominator, scale) - _scaled(*old, scale)
                ).scaleb(-indicator.decimals)
            else:
                before_rate = rate_pct(*old, indicator.decimals, indicator.truncate)
                change = r.rate - before_rate  # type: ignore[operator]
        rows.append(
            Row(
                position,
                unit,
                values,
                r,
                met(r),
                change,
                tuple([ratio(col, values) for col in columns]) if columns else (),
            )
        )
    total = total_ratio(indicator, [values for _, values, _ in scored])
    return Ranking(indicator, tuple(rows), total, tuple(missing), tuple(columns))


def _exact_key(r: Ratio) -> Fraction:
    return r.exact if r.exact is not None else Fraction(-1)


def _sorted(scored: list[tuple[Unit, Values, Ratio]]) -> list[tuple[Unit, Values, Ratio]]:
    """By (-exact rate, collated name), a rate of nothing counting as -1. The float first only
    to be quick: int / int is correctly rounded, so a smaller float means a smaller rate; a run
    of equal floats whose exact rates differ (beyond float precision: rare) is sorted again by
    the exact Fraction."""
    keyed = sorted(
        (
            (-(r.numerator * 100 / r.denominator) if r.denominator > 0 else 1.0, collate(u.name), n)
            for n, (u, _, r) in enumerate(scored)
        )
    )
    out = [scored[n] for _, _, n in keyed]
    start = 0
    for end in range(1, len(keyed) + 1):
        if end == len(keyed) or keyed[end][0] != keyed[start][0]:
            if end - start > 1 and not _same_rate(out[start:end]):
                out[start:end] = sorted(
                    out[start:end], key=lambda i: (-_exact_key(i[2]), collate(i[0].name))
                )
            start = end
    return out


def _scaled(numerator: int, denominator: int, scale: int) -> int:
    """round_half_up(numerator / denominator · scale) for numerator >= 0 < denominator:
    `rate_pct` in integers, before the Decimal is made."""
    return (2 * numerator * scale + denominator) // (2 * denominator)


def _same_rate(items: Sequence[tuple[Unit, Values, Ratio]]) -> bool:
    """Whether every item has the same exact rate (cross-multiplied, no Fractions)."""

    def parts(r: Ratio) -> tuple[int, int]:
        return (r.numerator * 100, r.denominator) if r.denominator > 0 else (-1, 1)

    a, b = parts(items[0][2])
    for item in items[1:]:
        c, d = parts(item[2])
        if a * d != c * b:
            return False
    return True


def _meets(indicator: Indicator) -> Callable[[Ratio], bool | None]:
    """`meets(indicator, r)` with the target's Fraction made once: exact >= target compared
    in integers (num·100·t.den >= t.num·den, the denominator being positive)."""
    if indicator.target is None:
        return lambda r: None
    target = Fraction(indicator.target)
    tn, td = target.numerator, target.denominator

    def met(r: Ratio) -> bool | None:
        if r.denominator <= 0:
            return None
        return r.numerator * 100 * td >= tn * r.denominator

    return met


def most_improved(rankings: Sequence[Ranking], limit: int = 3) -> list[tuple[Row, Indicator]]:
    """Rows with the largest rise in rate since last week, across indicators."""
    rises = [
        (row, ranking.indicator)
        for ranking in rankings
        for row in ranking.rows
        if row.change is not None and row.change > 0
    ]
    # The first `limit` of the sorted list (nsmallest is documented as exactly that, ties
    # included), without sorting all the rises of a national digest.
    return heapq.nsmallest(
        limit, rises, key=lambda item: (-(item[0].change or 0), collate(item[0].unit.name))
    )
