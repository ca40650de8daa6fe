"""Pace toward a target: what remains, what is needed per day and week, where the trend leads."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from core.catalogue import Indicator, Milestone, PaceRules
from core.ranking import counts, ratio
from core.submission import Values

# Weeks of history the current weekly pace is averaged over.
PACE_WEEKS = 4
# Reports a pace needs: two points are one weekly rise, which in the first weeks is mostly
# units joining or catching up; a projection from it is noise ("dự kiến đạt 2057").
MIN_PACE_POINTS = 3

# One unit's figures (or the group's totals) week by week: (due date, values), oldest first.
UnitTrend = Sequence[tuple[date, Values]]
# Every unit's figures week by week: (due date, unit code -> values), oldest first.
WeeklyValues = Sequence[tuple[date, Mapping[str, Values]]]


@dataclass(frozen=True)
class Point:
    on: date
    numerator: int
    denominator: int


@dataclass(frozen=True)
class Pace:
    numerator: int
    denominator: int
    target_count: int
    remaining: int
    days_left: int | None
    weekly_pace: Fraction | None  # average weekly rise of the numerator
    projected: date | None
    deadline: date | None

    @property
    def met(self) -> bool:
        return self.remaining == 0

    @property
    def at_risk(self) -> bool:
        """Short of the target, with a deadline the current pace does not reach."""
        if self.met or self.deadline is None:
            return False
        if self.weekly_pace is None:
            # Too few reports to say ("chưa đủ số liệu"), unless the deadline has passed.
            return self.days_left == 0
        return self.projected is None or self.projected > self.deadline


def points(indicator: Indicator, series: UnitTrend) -> list[Point]:
    out = []
    for on, values in series:
        r = ratio(indicator, values)
        if r is not None:
            out.append(Point(on, r.numerator, r.denominator))
    return out


def compute_pace(indicator: Indicator, history: Sequence[Point], today: date) -> Pace | None:
    """`history` ascending by date; the last point is the current figure."""
    if not history or indicator.target is None:
        return None
    last = history[-1]
    target_count = math.ceil(Fraction(indicator.target) * last.denominator / 100)
    remaining = max(0, target_count - last.numerator)
    days_left = None
    if indicator.deadline is not None:
        days_left = max((indicator.deadline - today).days, 0)
    recent = [p for p in history if p.on >= last.on - timedelta(weeks=PACE_WEEKS)]
    weekly_pace = None
    if len({p.on for p in recent}) >= MIN_PACE_POINTS:
        weeks = Fraction((recent[-1].on - recent[0].on).days, 7)
        weekly_pace = (recent[-1].numerator - recent[0].numerator) / weeks
    projected = None
    if remaining == 0:
        projected = today
    elif weekly_pace is not None and weekly_pace > 0:
        projected = today + timedelta(days=math.ceil(remaining / weekly_pace * 7))
    return Pace(
        numerator=last.numerator,
        denominator=last.denominator,
        target_count=target_count,
        remaining=remaining,
        days_left=days_left,
        weekly_pace=weekly_pace,
        projected=projected,
        deadline=indicator.deadline,
    )


# --- milestones and daily quotas ------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneStatus:
    """Where one point stands against one milestone."""

    milestone: Milestone
    goal: int  # the count the milestone asks for, on the point's denominator for a rate
    done: int
    share: Fraction | None  # done as a percentage of a count, or the rate for a rate milestone

    @property
    def reached(self) -> bool:
        return self.done >= self.goal

    @property
    def remaining(self) -> int:
        return max(0, self.goal - self.done)


def milestone_status(milestone: Milestone, point: Point) -> MilestoneStatus:
    share: Fraction | None
    if milestone.count is not None:
        goal = milestone.count
        share = Fraction(point.numerator * 100, goal)
    else:
        rate = Fraction(milestone.rate or 0)
        goal = math.ceil(rate * point.denominator / 100)
        share = Fraction(point.numerator * 100, point.denominator) if point.denominator else None
    return MilestoneStatus(milestone, goal, point.numerator, share)


def next_milestone(
    indicator: Indicator, unit: str | None, history: Sequence[Point], today: date
) -> MilestoneStatus | None:
    """The first milestone of `unit` (None: the area) dated today or later, against the
    latest figures."""
    if not history:
        return None
    for m in indicator.milestones:
        if m.on >= today and m.applies_to(unit):
            return milestone_status(m, history[-1])
    return None


def last_milestone(
    indicator: Indicator, unit: str | None, history: Sequence[Point], today: date
) -> MilestoneStatus | None:
    """The latest milestone of `unit` dated before today, against the figures reported by
    its date (None: no milestone has passed, or nothing was reported by then)."""
    passed = [m for m in indicator.milestones if m.on < today and m.applies_to(unit)]
    if not passed:
        return None
    by_then = [p for p in history if p.on <= passed[-1].on]
    return milestone_status(passed[-1], by_then[-1]) if by_then else None


def days_left(today: date, end: date, rules: PaceRules, closed: frozenset[date]) -> int:
    """Days after today up to and including `end`: every day, or (`working_days`) Monday to
    Friday without the calendar's days off."""
    if end <= today:
        return 0
    if not rules.working_days:
        return (end - today).days
    days = (today + timedelta(days=n) for n in range(1, (end - today).days + 1))
    return sum(1 for d in days if d.weekday() < 5 and d not in closed)


@dataclass(frozen=True)
class DailyQuota:
    """ "Chỉ tiêu thực hiện trong ngày": what is left ÷ the days left, rounded as configured."""

    end: date
    remaining: int
    days: int
    per_day: int
    per_week: int  # per_day over a week of 7 days, or of 5 working days


def whole(value: Fraction, round_up: bool) -> int:
    """Up (half a person still has to be found), or to the nearest, halves up."""
    return math.ceil(value) if round_up else math.floor(value + Fraction(1, 2))


def week_days(rules: PaceRules) -> int:
    return 5 if rules.working_days else 7


def daily_quota(
    remaining: int, today: date, end: date, rules: PaceRules, closed: frozenset[date]
) -> DailyQuota:
    """A day with nothing left counts as one: on the last day everything left is due."""
    days = days_left(today, end, rules, closed)
    per_day = Fraction(remaining, max(days, 1))
    return DailyQuota(
        end=end,
        remaining=remaining,
        days=days,
        per_day=whole(per_day, rules.round_up),
        per_week=whole(per_day * week_days(rules), rules.round_up),
    )


def quota_toward(
    indicator: Indicator,
    unit: str | None,
    history: Sequence[Point],
    today: date,
    rules: PaceRules,
    closed: frozenset[date],
) -> DailyQuota | None:
    """The daily quota toward the next milestone of `unit`, else toward the deadline (None:
    neither is ahead, or nothing is left)."""
    upcoming = next_milestone(indicator, unit, history, today)
    if upcoming is not None:
        remaining, end = upcoming.remaining, upcoming.milestone.on
    else:
        result = compute_pace(indicator, history, today)
        if result is None or indicator.deadline is None or indicator.deadline < today:
            return None
        remaining, end = result.remaining, indicator.deadline
    if remaining == 0:
        return None
    return daily_quota(remaining, today, end, rules, closed)


def risk_check(indicator: Indicator, today: date) -> Callable[[UnitTrend], bool]:
    """A function of one unit's series (ascending by date) giving exactly
    `compute_pace(indicator, points(indicator, series), today).at_risk` (False for None),
    in integers: the digest asks it for every unit and indicator of the country."""
    target, deadline = indicator.target, indicator.deadline
    if target is None or deadline is None:
        return lambda series: False
    exact = Fraction(target)
    # target_count = ceil(target · den / 100) = ceil(tn · den / (100 · td)).
    tn, scale = exact.numerator, exact.denominator * 100
    days_to_deadline = (deadline - today).days
    window = timedelta(weeks=PACE_WEEKS)

    def check(series: UnitTrend) -> bool:
        # From the newest point back: the last point, then the oldest one of the window.
        i = len(series) - 1
        while i >= 0:
            last = counts(indicator, series[i][1])
            if last is not None:
                break
            i -= 1
        else:
            return False  # no point
        numerator, denominator = last
        remaining = -(-tn * denominator // scale) - numerator
        if remaining <= 0:
            return False  # met
        last_on = series[i][0]
        cutoff = last_on - window
        first_on, first_numerator = last_on, numerator
        dates = {last_on}
        for on, values in reversed(series[:i]):
            if on < cutoff:
                break
            point = counts(indicator, values)
            if point is not None:
                first_on, first_numerator = on, point[0]
                dates.add(on)
        if len(dates) < MIN_PACE_POINTS:
            # Too few reports for a pace: at risk only once the deadline has passed.
            return days_to_deadline <= 0
        rise = numerator - first_numerator
        if rise <= 0:
            return True  # no pace to project: short of the target with a deadline
        days = (last_on - first_on).days
        # projected = today + ceil(remaining / (rise / (days / 7)) · 7) days.
        return -(-remaining * days // rise) > days_to_deadline

    return check


def carried_units(
    units: Sequence[str], by_period: Sequence[tuple[object, Mapping[str, Values]]]
) -> int:
    """How many units the last period's `carry_forward` total takes from an earlier week
    (they have figures in the window but did not report in its last period)."""
    if not by_period:
        return 0
    last = by_period[-1][1]
    earlier = {unit for _, reports in by_period[:-1] for unit in reports}
    return sum(1 for unit in units if unit in earlier and unit not in last)


def carry_forward(units: Sequence[str], by_period: WeeklyValues) -> list[tuple[date, Values]]:
    """Group totals per period, each unit contributing its latest figures so far, so a
    unit that skips a week does not make the cumulative total dip."""
    latest: dict[str, Values] = {}
    out: list[tuple[date, Values]] = []
    # Weeks before every unit of the window has reported once would make the total jump
    # when a unit first appears; they are left out.
    seen = {unit for _, reports in by_period for unit in units if unit in reports}
    for on, reports in by_period:
        for unit in units:
            if unit in reports:
                latest[unit] = reports[unit]
        summed: dict[str, int] = {}
        for values in latest.values():
            for code, value in values.items():
                summed[code] = summed.get(code, 0) + value
        if set(latest) >= seen:
            out.append((on, summed))
    return out
