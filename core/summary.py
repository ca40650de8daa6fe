"""A month, a quarter or a year summed up from its weekly reports: the figures at its end,
the change over it, the ranking, who met or missed each milestone dated in it, and who
reported late and how often. Pure: `handlers.queries.period_weeks` reads what it needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.catalogue import Catalogue, Indicator, Milestone, Unit
from core.closing import WeekApproval
from core.pace import MilestoneStatus, Point, milestone_status
from core.periods import Period, ReportPeriod
from core.ranking import Ranking, counts, rank
from core.submission import Values


@dataclass(frozen=True)
class WeekReports:
    """One week of the period: each unit's current figures (quotas filled in) and whether
    that report came after the due time."""

    period: Period
    due: date  # the local due date
    values: Mapping[str, Values]
    late: Mapping[str, bool]


@dataclass(frozen=True)
class Lateness:
    """A unit's weeks in the period that came late, or never came."""

    unit: Unit
    late: tuple[Period, ...]
    missing: tuple[Period, ...]


@dataclass(frozen=True)
class MilestoneResult:
    """One milestone dated in the period, against the figures each unit had reported by its
    date (a unit's last report so far, as the weekly tables carry it)."""

    indicator: Indicator
    milestone: Milestone
    met: tuple[Unit, ...]
    missed: tuple[Unit, ...]
    area: MilestoneStatus | None  # the whole area's sums (None: the milestone is one unit's)


@dataclass(frozen=True)
class PeriodSummary:
    catalogue: Catalogue
    period: ReportPeriod
    weeks: tuple[WeekReports, ...]  # the period's weeks so far, oldest first
    end: Mapping[str, Values]  # each unit's latest figures as of the last due date
    source: Mapping[str, Period]  # the week each unit's end figures were reported for
    start: Mapping[str, Values]  # as of the previous period's end, else its first report
    carried_in: frozenset[str]  # units whose `start` is from before the period
    rankings: tuple[Ranking, ...]  # at the end; `change` is the change over the period
    lateness: tuple[Lateness, ...]  # units with a late or missing week, most first
    milestones: Mapping[str, tuple[MilestoneResult, ...]]  # indicator code -> results
    # The leaders' approvals that stand, by period key (`core.closing`).
    approvals: Mapping[str, WeekApproval] = field(default_factory=dict)

    @property
    def last_week(self) -> WeekReports:
        return self.weeks[-1]

    @property
    def reported_weeks(self) -> tuple[Period, ...]:
        """The weeks someone reported for: the ones a leader can approve."""
        return tuple(w.period for w in self.weeks if w.values)

    @property
    def unapproved(self) -> tuple[Period, ...]:
        """The reported weeks not approved (or reopened); empty: the period's figures are
        final."""
        return tuple(p for p in self.reported_weeks if p.key not in self.approvals)

    @property
    def last_approval(self) -> WeekApproval | None:
        """The latest of the reported weeks' approvals."""
        found = [self.approvals[p.key] for p in self.reported_weeks if p.key in self.approvals]
        return max(found, key=lambda a: a.at) if found else None


def summarize(
    cat: Catalogue,
    period: ReportPeriod,
    weeks: Sequence[WeekReports],
    earlier: Sequence[WeekReports],
    today: date,
    approvals: Mapping[str, WeekApproval] | None = None,
) -> PeriodSummary | None:
    """`weeks`: the period's weeks whose due time has passed, oldest first; `earlier`: the
    weeks before the period that hold each unit's latest report from before it, oldest
    first; `today`: milestones after it are still ahead; `approvals`: the approvals that
    stand among `weeks`, by period key. None when nobody reported in the period's weeks."""
    if not any(w.values for w in weeks):
        return None
    end: dict[str, Values] = {}
    source: dict[str, Period] = {}
    first: dict[str, Values] = {}
    for week in earlier:
        for unit, values in week.values.items():
            end[unit], source[unit] = values, week.period
    before = dict(end)
    for week in weeks:
        for unit, values in week.values.items():
            end[unit], source[unit] = values, week.period
            first.setdefault(unit, values)
    # The change over the period: from the previous period's end, else from the first week.
    start = {**first, **before}
    indicators = cat.ranked_indicators or cat.indicators
    rankings = tuple(rank(cat, ind, end, start) for ind in indicators)
    return PeriodSummary(
        catalogue=cat,
        period=period,
        weeks=tuple(weeks),
        end=end,
        source=source,
        start=start,
        carried_in=frozenset(before),
        rankings=rankings,
        lateness=lateness(cat, weeks),
        milestones={
            ind.code: milestone_results(cat, ind, period, weeks, before, today)
            for ind in indicators
        },
        approvals=dict(approvals or {}),
    )


def lateness(cat: Catalogue, weeks: Sequence[WeekReports]) -> tuple[Lateness, ...]:
    """Per unit expected to report, the weeks of `weeks` it reported late or not at all (a
    skipped week and an excused unit count for neither), most late weeks first."""
    late: dict[str, list[Period]] = {}
    missing: dict[str, list[Period]] = {}
    for week in weeks:
        if cat.calendar.skipped(week.period):
            continue
        for unit in cat.expected_units(week.period):
            if unit.code not in week.values:
                missing.setdefault(unit.code, []).append(week.period)
            elif week.late.get(unit.code):
                late.setdefault(unit.code, []).append(week.period)
    out = [
        Lateness(u, tuple(late.get(u.code, ())), tuple(missing.get(u.code, ())))
        for u in cat.units
        if u.code in late or u.code in missing
    ]
    order = {u.code: n for n, u in enumerate(cat.units)}
    return tuple(sorted(out, key=lambda x: (-len(x.late), -len(x.missing), order[x.unit.code])))


def period_milestones(ind: Indicator, period: ReportPeriod) -> tuple[Milestone, ...]:
    """The indicator's milestones dated in the period, and its target at its deadline when
    the deadline is in it (the last milestone of every indicator), by date."""
    found = [m for m in ind.milestones if period.first_day <= m.on <= period.last_day]
    deadline = ind.deadline
    if ind.target is not None and deadline is not None:
        final = Milestone(on=deadline, rate=Decimal(ind.target))
        inside = period.first_day <= deadline <= period.last_day
        if inside and not any(m.on == final.on and m.rate == final.rate for m in found):
            found.append(final)
    return tuple(sorted(found, key=lambda m: (m.on, m.unit or "")))


def as_of(
    weeks: Sequence[WeekReports], before: Mapping[str, Values], day: date
) -> dict[str, Values]:
    """Each unit's latest figures reported for a week due on or before `day`."""
    out = dict(before)
    for week in weeks:
        if week.due <= day:
            out.update(week.values)
    return out


def milestone_results(
    cat: Catalogue,
    ind: Indicator,
    period: ReportPeriod,
    weeks: Sequence[WeekReports],
    before: Mapping[str, Values],
    today: date,
) -> tuple[MilestoneResult, ...]:
    """Who met and who missed each milestone of the period dated before `today` (a later
    one is still ahead), by the figures reported for the weeks due by its date."""
    out = []
    for m in period_milestones(ind, period):
        if m.on >= today:
            continue
        figures = as_of(weeks, before, m.on)
        met: list[Unit] = []
        missed: list[Unit] = []
        for unit in cat.active_units:
            if not m.applies_to(unit.code) or unit.code not in figures:
                continue
            both = counts(ind, figures[unit.code])
            if both is None:
                continue
            status = milestone_status(m, Point(m.on, *both))
            (met if status.reached else missed).append(unit)
        area = None
        if m.applies_to(None):
            sums = [counts(ind, figures[u.code]) for u in cat.units if u.code in figures]
            pairs = [s for s in sums if s is not None]
            if pairs:
                num, den = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
                area = milestone_status(m, Point(m.on, num, den))
        if met or missed or area is not None:
            out.append(MilestoneResult(ind, m, tuple(met), tuple(missed), area))
    return tuple(out)
