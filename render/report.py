"""What a weekly export holds, computed once with core.ranking and core.pace, and the table
layout the Excel sheets, the CSV and the Word draft share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from core import messages as msg
from core import tiers
from core.catalogue import Catalogue, Indicator
from core.numbers import format_decimal, format_int, format_pct
from core.pace import WeeklyValues, compute_pace, points
from core.periods import Period
from core.ranking import Ranking, Ratio, Row, count_columns, rank
from core.submission import Submission, Values
from render import texts


@dataclass(frozen=True)
class WeeklyReport:
    """Everything the files of one period show."""

    catalogue: Catalogue
    period: Period
    due: datetime  # the period's due time, local
    window_start: date  # previous due date: reports for this period come after it
    rankings: tuple[Ranking, ...]
    reports: tuple[Submission, ...]  # current version of each unit's report
    versions: tuple[Submission, ...]  # every version of every report of the period
    at_risk: Mapping[str, tuple[str, ...]]  # indicator code -> unit names behind pace
    # "Đã phê duyệt: <who>, <when>" once a leader approved the week (handlers/closing.py).
    approval: str = ""
    # (unit, version) -> the mark of a version an approved correction made.
    marks: Mapping[tuple[str, int], str] = field(default_factory=dict)

    @property
    def reported(self) -> frozenset[str]:
        return frozenset(s.unit for s in self.reports)


def build_report(
    catalogue: Catalogue,
    period: Period,
    reports: Sequence[Submission],
    previous: Mapping[str, Values],
    versions: Sequence[Submission],
    series: WeeklyValues,
    today: date,
    approval: str = "",
    marks: Mapping[tuple[str, int], str] | None = None,
) -> WeeklyReport:
    """`series` is the recent weeks of reports (ascending by due date) used for pace."""
    cal = catalogue.calendar
    current = catalogue.with_quotas(period, {s.unit: s.values for s in reports})
    indicators = catalogue.ranked_indicators or catalogue.indicators
    rankings = tuple(rank(catalogue, ind, current, previous) for ind in indicators)
    risk: dict[str, tuple[str, ...]] = {}
    for ind in indicators:
        names = []
        for unit in catalogue.active_units:
            history = [(on, by_unit[unit.code]) for on, by_unit in series if unit.code in by_unit]
            result = compute_pace(ind, points(ind, history), today)
            if result is not None and result.at_risk:
                names.append(unit.name)
        risk[ind.code] = tuple(names)
    order = {u.code: n for n, u in enumerate(catalogue.units)}
    return WeeklyReport(
        catalogue=catalogue,
        period=period,
        due=cal.local(cal.due_at(period)),
        window_start=cal.local(cal.due_at(period.previous())).date(),
        rankings=rankings,
        reports=tuple(sorted(reports, key=lambda s: order.get(s.unit, len(order)))),
        versions=tuple(sorted(versions, key=lambda s: (order.get(s.unit, len(order)), s.version))),
        at_risk=risk,
        approval=approval,
        marks=dict(marks or {}),
    )


# --- the ranked table, as the standing office's letters lay it out --------------------------

Kind = Literal["int", "rate", "change"]
Cell = int | Decimal | None


@dataclass(frozen=True)
class Column:
    header: str
    group: str  # the header spanning this column's group ("" for none)
    kind: Kind
    decimals: int = 0


def _labels(catalogue: Catalogue, codes: Sequence[str]) -> str:
    return texts.sum_of([catalogue.field(c).label for c in codes])


def _groups(ranking: Ranking) -> list[Indicator]:
    return [ranking.indicator, *ranking.columns]


def columns(
    catalogue: Catalogue, ranking: Ranking, change: str = texts.COL_CHANGE_FULL
) -> list[Column]:
    """After TT and Đơn vị: for the indicator and each of its side columns, the total, the
    count done and the rate (the indicator's own `counts` before its rate, as the letters
    print "chưa cấp"); then the change since last week (`change`: its header, another for
    a month's change)."""
    out = []
    for ind in _groups(ranking):
        group = ind.short if ranking.columns else ""
        out += [
            Column(_labels(catalogue, ind.denominator), group, "int"),
            Column(_labels(catalogue, ind.numerator), group, "int"),
        ]
        if ind is ranking.indicator:
            out += [Column(header, group, "int") for _, header in ind.counts]
        out.append(Column(texts.COL_RATE_FULL, group, "rate", ind.decimals))
    out.append(Column(change, "", "change", ranking.indicator.decimals))
    return out


def cells(ranking: Ranking, row: Row) -> list[Cell]:
    out: list[Cell] = [row.ratio.denominator, row.ratio.numerator]
    out += count_columns(ranking.indicator, row)
    out.append(row.ratio.rate)
    for extra in row.extras:
        if extra is None:
            out += [None, None, None]
        else:
            out += [extra.denominator, extra.numerator, extra.rate]
    out.append(row.change)
    return out


def total_cells(ranking: Ranking) -> list[Cell]:
    t = ranking.total
    if t is None:
        return []
    out: list[Cell] = [t.denominator, t.numerator]
    # A count's total is the sum over the ranked units (of what each has left, for REMAINING).
    by_row = [count_columns(ranking.indicator, row) for row in ranking.rows]
    for n in range(len(ranking.indicator.counts)):
        out.append(sum(r[n] or 0 for r in by_row))
    out.append(t.rate)
    for col in ranking.columns:
        # A column's total is the ratio of its own sums over the ranked units.
        num = sum(sum(r.values.get(c, 0) for c in col.numerator) for r in ranking.rows)
        den = sum(sum(r.values.get(c, 0) for c in col.denominator) for r in ranking.rows)
        out += [den, num, Ratio(num, den, col.decimals, col.truncate).rate]
    out.append(None)
    return out


def sections(ranking: Ranking) -> list[tuple[str, tuple[Row, ...]]]:
    """(title, rows): the bands best first when the indicator has tiers, else met then not
    met, or one list when the indicator has no target."""
    if ranking.indicator.tiers is not None:
        return tiers.sections(ranking.indicator.tiers, ranking.rows, marks=False)
    if ranking.indicator.target is None:
        return [(msg.section_all(len(ranking.rows)), ranking.rows)]
    out = []
    if ranking.met:
        out.append((msg.section_met(len(ranking.met)), ranking.met))
    if ranking.not_met:
        out.append((msg.section_not_met(len(ranking.not_met)), ranking.not_met))
    return out


def cell_text(column: Column, value: Cell) -> str:
    """A cell as the letters print it: 12.446, 92,86%, +1,25."""
    if value is None:
        return ""
    if column.kind == "int":
        return format_int(int(value))
    if column.kind == "rate":
        return format_pct(Decimal(value), column.decimals)
    change = Decimal(value)
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    return sign + format_decimal(abs(change), column.decimals)
