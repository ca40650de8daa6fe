"""Read models: what commands and scheduled posts read, each fact computed in one place.

Every function here takes an open unit of work and only reads; the caller keeps its
transaction around these calls alone and computes, renders and sends after it is closed.
The pure folds over what was read (`dated`, `since_first_report`, `units_at_risk`) live
here too, so `/tiendo`, `/lichsu`, `/bieudo`, `/xuat` and the digest cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import date, datetime

from core.catalogue import Catalogue, Indicator, Unit
from core.pace import WeeklyValues, risk_check
from core.periods import Calendar, Period, ReportPeriod
from core.ranking import Ranking, rank
from core.submission import Submission, Values
from core.summary import WeekReports
from storage import UnitOfWork
from storage.repositories import ReportedValues

# Weeks of reports read for pace, history, trend charts and the digest.
SERIES_WEEKS = 8

Week = tuple[Period, dict[str, Values]]


@dataclass(frozen=True)
class Recent:
    """The current reports of the last weeks up to a period, read with one query."""

    weeks: list[Week]  # every week, oldest first, each unit's values
    rows: list[ReportedValues]  # the rows themselves (lateness)

    @property
    def last(self) -> dict[str, Values]:
        return self.weeks[-1][1]

    @property
    def before_last(self) -> dict[str, Values]:
        return self.weeks[-2][1] if len(self.weeks) > 1 else {}

    def in_period(self, period: Period) -> dict[str, ReportedValues]:
        key = period.key  # a property: computed once, not for each of 26,000 rows
        return {r.unit: r for r in self.rows if r.period == key}


async def recent(
    uow: UnitOfWork, cat: Catalogue, last: Period, weeks: int = SERIES_WEEKS
) -> Recent:
    """The last `weeks` weeks up to and including `last`, grouped by period, each week's
    values with the quotas that applied on its due date (`Catalogue.with_quotas`)."""
    periods = [last.shift(-n) for n in range(weeks - 1, -1, -1)]
    rows = await uow.submissions.current_values([p.key for p in periods], cat.scope_codes)
    by_period: dict[str, dict[str, Values]] = {p.key: {} for p in periods}
    for r in rows:
        by_period[r.period][r.unit] = r.values
    return Recent([(p, cat.with_quotas(p, by_period[p.key])) for p in periods], rows)


def dated(cal: Calendar, weeks: Sequence[Week]) -> WeeklyValues:
    """The weeks by due date, as pace and trends take them."""
    return [(cal.due_at(p).date(), reports) for p, reports in weeks]


def since_first_report(weeks: Sequence[Week]) -> list[Week]:
    """The weeks from the first one anyone reported in (charts and files leave out the
    empty weeks before it)."""
    start = next((n for n, (_, reports) in enumerate(weeks) if reports), len(weeks))
    return list(weeks[start:])


def unit_points(series: WeeklyValues, unit: Unit) -> list[tuple[date, Values]]:
    return [(on, reports[unit.code]) for on, reports in series if unit.code in reports]


async def reports_of(uow: UnitOfWork, cat: Catalogue, period: Period) -> dict[str, ReportedValues]:
    """The current report of each unit that reported for `period` (quotas filled in)."""
    rows = {r.unit: r for r in await uow.submissions.current_values([period.key], cat.scope_codes)}
    if not cat.quotas:
        return rows
    filled = cat.with_quotas(period, {unit: r.values for unit, r in rows.items()})
    return {unit: r._replace(values=dict(filled[unit])) for unit, r in rows.items()}


async def week_and_previous(
    uow: UnitOfWork, cat: Catalogue, period: Period
) -> tuple[dict[str, Values], dict[str, Values]]:
    """Each unit's current values for `period` and for the week before (one query), each
    with the quotas that applied on its week's due date."""
    key, before = period.key, period.previous()
    rows = await uow.submissions.current_values([key, before.key], cat.scope_codes)
    current: dict[str, Values] = {r.unit: r.values for r in rows if r.period == key}
    previous: dict[str, Values] = {r.unit: r.values for r in rows if r.period != key}
    return cat.with_quotas(period, current), cat.with_quotas(before, previous)


async def reported_period(uow: UnitOfWork, cal: Calendar, at: datetime) -> Period:
    """The current period if anyone has reported for it, else the latest one with reports."""
    current = cal.current(at)
    if await uow.submissions.has_reports(current.key):
        return current
    latest = await uow.submissions.periods_with_reports(1)
    return Period.parse(latest[0]) if latest else current


async def missing_units(catalogue: Catalogue, uow: UnitOfWork, period: Period) -> list[Unit]:
    """Units expected to report (not exempt, not excused that week) with no current report
    for the period, in config order."""
    reported = {s.unit for s in await uow.submissions.current_for_period(period.key)}
    return [u for u in catalogue.expected_units(period) if u.code not in reported]


async def versions_of_week(uow: UnitOfWork, period: Period) -> list[Submission]:
    """Every version of every unit's report for `period`, by unit then version."""
    return await uow.submissions.versions_for_period(period.key)


def units_at_risk(
    catalogue: Catalogue, series: WeeklyValues, today: date
) -> tuple[tuple[Indicator, tuple[Unit, ...]], ...]:
    """Per ranked indicator with a deadline, the active units whose pace misses it."""
    by_unit: dict[str, list[tuple[date, Values]]] = {}
    for on, reports in series:
        for code, values in reports.items():
            by_unit.setdefault(code, []).append((on, values))
    out = []
    for ind in catalogue.ranked_indicators:
        if ind.deadline is None:
            continue
        at_risk = risk_check(ind, today)
        names = tuple(u for u in catalogue.active_units if at_risk(by_unit.get(u.code, ())))
        if names:
            out.append((ind, names))
    return tuple(out)


def expected_codes(cat: Catalogue, period: Period) -> set[str]:
    """The codes of the units expected to report for `period` (see `rank_expected`)."""
    return {u.code for u in cat.expected_units(period)}


def rank_expected(
    cat: Catalogue,
    ind: Indicator,
    current: Mapping[str, Values],
    previous: Mapping[str, Values],
    expected: Set[str],
) -> Ranking:
    """The ranking, with only the `expected` units (`expected_codes` of the week) listed as
    without figures: an exempt or excused unit is not missing."""
    result = rank(cat, ind, current, previous)
    return replace(result, missing=tuple(u for u in result.missing if u.code in expected))


async def period_weeks(
    uow: UnitOfWork, cat: Catalogue, period: ReportPeriod, now: datetime
) -> tuple[list[WeekReports], list[WeekReports]]:
    """A month's, quarter's or year's weeks whose due time has passed by `now` (each unit's
    current report, quotas filled in, and its lateness), and the earlier weeks that hold
    each unit's latest report from before the period, for `core.summary.summarize`. Two
    queries. A scoped chat's: its units' only (a week only other units reported in is not
    one of its reported weeks)."""
    cal = cat.calendar
    weeks = [p for p in period.weeks(cal) if cal.due_at(p) <= now]
    if not weeks:
        return [], []
    codes = cat.scope_codes
    rows = await uow.submissions.current_values([p.key for p in weeks], codes)
    earlier = await uow.submissions.latest_before(weeks[0].key)
    if codes is not None:
        earlier = [r for r in earlier if r.unit in codes]
    return _week_reports(cat, weeks, rows), _week_reports(
        cat, sorted({Period.parse(r.period) for r in earlier}), earlier
    )


def _week_reports(
    cat: Catalogue, weeks: Sequence[Period], rows: Sequence[ReportedValues]
) -> list[WeekReports]:
    cal = cat.calendar
    by_week: dict[str, dict[str, ReportedValues]] = {p.key: {} for p in weeks}
    for r in rows:
        by_week[r.period][r.unit] = r
    out = []
    for p in weeks:
        reported = by_week[p.key]
        values = cat.with_quotas(p, {unit: r.values for unit, r in reported.items()})
        late = {unit: r.late for unit, r in reported.items()}
        out.append(WeekReports(p, cal.local(cal.due_at(p)).date(), values, late))
    return out
