"""The weekly digest: completeness, ranked tables with change, most improved, units at risk,
and units whose figures break a `warning` rule.

`read_digest` reads with one query (the current reports of the last weeks), so it stays
cheap at national scale and a caller's transaction short; `compute_digest` does the rest
after the transaction is closed; `digest_replies` turns the result into the posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Unit
from core.chat import Reply, Text
from core.numbers import format_int
from core.pace import (
    DailyQuota,
    Point,
    WeeklyValues,
    carry_forward,
    compute_pace,
    points,
    quota_toward,
    week_days,
    whole,
)
from core.periods import Period
from core.ranking import Ranking, Row, most_improved
from core.validation import rule_warnings
from handlers import queries
from handlers.present import (
    SUMMARY_UNITS,
    day_word,
    improved_heading,
    milestone_lines,
    names_capped,
    ranking_summary,
    signed,
)
from storage import UnitOfWork


@dataclass(frozen=True)
class Behind:
    """A unit among the furthest behind: its daily quota beside its actual daily pace."""

    unit: Unit
    quota: DailyQuota
    per_day: Fraction | None  # its average rise per day (per working day) of late


@dataclass(frozen=True)
class Plan:
    """An indicator with milestones: the area's figures toward them, and the units with the
    lowest rates that still have some way to go."""

    indicator: Indicator
    area: tuple[Point, ...]
    behind: tuple[Behind, ...]


@dataclass(frozen=True)
class Digest:
    period: Period
    due: datetime
    on_time: tuple[Unit, ...]
    late: tuple[Unit, ...]
    missing: tuple[Unit, ...]  # active (not exempt) units without a report
    rankings: tuple[Ranking, ...]  # one per ranked indicator, with change since last week
    improved: tuple[tuple[Row, Indicator], ...]
    at_risk: tuple[tuple[Indicator, tuple[Unit, ...]], ...]  # by pace, per indicator
    today: date
    plans: tuple[Plan, ...] = ()  # indicators with milestones
    # Units whose report of the period breaks a `warning` rule, with what each rule says.
    warned: tuple[tuple[Unit, tuple[str, ...]], ...] = ()
    # Closed weeks' figures corrected since the last digest (handlers/closing.py), one line
    # per week: `Số liệu tuần 46 đã điều chỉnh: Bình Long Xác thực ĐDĐT 78,94% → 79,10%`.
    corrected: tuple[str, ...] = ()


async def read_digest(uow: UnitOfWork, catalogue: Catalogue, period: Period) -> queries.Recent:
    """All the digest of `period` needs from storage."""
    return await queries.recent(uow, catalogue, period)


def compute_digest(
    catalogue: Catalogue, recent: queries.Recent, period: Period, now: datetime
) -> Digest:
    cal = catalogue.calendar
    current = recent.in_period(period)
    units = catalogue.expected_units(period)
    expected = {u.code for u in units}
    values_before, values_now = recent.before_last, recent.last
    rankings = tuple(
        queries.rank_expected(catalogue, i, values_now, values_before, expected)
        for i in catalogue.ranked_indicators
    )
    today = cal.local(now).date()
    series = queries.dated(cal, recent.weeks)
    return Digest(
        period=period,
        due=cal.due_at(period),
        on_time=tuple(u for u in units if u.code in current and not current[u.code].late),
        late=tuple(u for u in units if u.code in current and current[u.code].late),
        missing=tuple(u for u in units if u.code not in current),
        rankings=rankings,
        improved=tuple(most_improved([r for r in rankings if r.rows])),
        at_risk=queries.units_at_risk(catalogue, series, today),
        today=today,
        plans=_plans(catalogue, rankings, series, today),
        warned=tuple(
            (u, tuple(said))
            for u in units
            if u.code in current and (said := rule_warnings(catalogue, current[u.code].values))
        ),
    )


def _plans(
    catalogue: Catalogue, rankings: tuple[Ranking, ...], series: WeeklyValues, today: date
) -> tuple[Plan, ...]:
    """Bounded at national scale: the area's total and at most SUMMARY_UNITS units each."""
    rules, closed = catalogue.pace, catalogue.calendar.closed_days
    codes = [u.code for u in catalogue.units]
    area_series = carry_forward(codes, series)
    out = []
    for ranking in rankings:
        ind = ranking.indicator
        if not ind.milestones:
            continue
        behind: list[Behind] = []
        # The lowest rates first (ties by name, as the ranking has them).
        for row in sorted(ranking.rows, key=lambda r: r.ratio.exact or 0):
            if len(behind) == SUMMARY_UNITS:
                break
            history = points(ind, queries.unit_points(series, row.unit))
            quota = quota_toward(ind, row.unit.code, history, today, rules, closed)
            if quota is None:
                continue
            pace = compute_pace(ind, history, today)
            weekly = pace.weekly_pace if pace is not None else None
            per_day = None if weekly is None else weekly / week_days(rules)
            behind.append(Behind(row.unit, quota, per_day))
        out.append(Plan(ind, tuple(points(ind, area_series)), tuple(behind)))
    return tuple(out)


async def build_digest(
    catalogue: Catalogue, uow: UnitOfWork, period: Period, now: datetime
) -> Digest:
    """Read and compute in one go, for callers without a transaction of their own to keep
    short (the benchmark, tests)."""
    return compute_digest(catalogue, await read_digest(uow, catalogue, period), period, now)


def digest_replies(catalogue: Catalogue, digest: Digest) -> list[Reply]:
    """Three messages a phone reads in the group: completeness; each indicator's total,
    units met and best and worst units; then the highlights. The full tables are the
    charts posted after them (and `/xephang` in a private chat), so the digest keeps its
    size at national scale."""
    units = catalogue.expected_units(digest.period)
    label = digest.period.label
    late = names_capped([u.short_name for u in digest.late])
    missing = names_capped([u.short_name for u in digest.missing])
    scope = () if catalogue.scope_name is None else (_scope_text(catalogue),)
    head = Reply(
        (
            Text.of(msg.digest_title(label, digest.due)),
            *scope,
            Text.of(
                msg.status_counts(
                    len(digest.on_time), len(digest.late), len(digest.missing), len(units)
                )
            ),
            Text.of(msg.status_list(msg.STATUS_LATE, late, len(digest.late))),
            Text.of(msg.status_list(msg.STATUS_MISSING, missing, len(digest.missing))),
        )
    )
    out = [head]
    summaries = [ranking_summary(r) for r in digest.rankings if r.rows]
    if summaries:
        out.append(Reply((Text.of(msg.DIGEST_RANKINGS), *summaries, Text.of(msg.DIGEST_FULL))))
    improved = [improved_heading(digest.rankings, bool(digest.improved))]
    for row, ind in digest.improved:
        change = signed(row.change, ind.decimals)
        improved.append(msg.improved_line(row.unit.short_name, ind.short, change))
    risk = [msg.DIGEST_AT_RISK if digest.at_risk else msg.DIGEST_NO_RISK]
    for ind, at_risk in digest.at_risk:
        names = names_capped([u.short_name for u in at_risk])
        risk.append("• " + msg.at_risk_units(ind.short, names, len(at_risk)))
    highlights = [Text.of("\n".join(improved)), Text.of("\n".join(risk))]
    if digest.warned:
        highlights.append(Text.of(_warned_lines(digest.warned)))
    if digest.corrected:
        highlights.append(Text.of("\n".join(digest.corrected)))
    out.append(Reply(tuple(highlights)))
    if digest.plans:
        out.append(Reply(tuple(Text.of(t) for t in _plan_texts(catalogue, digest))))
    return out


def _scope_text(catalogue: Catalogue) -> Text:
    """A scoped chat's view says which part of the set-up its figures cover."""
    return Text.of(msg.scope_line(catalogue.scope_name or "", len(catalogue.units)))


# Units named one by one under "Số liệu cần xem lại"; the rest are counted.
WARNED_SHOWN = 5


def _warned_lines(warned: tuple[tuple[Unit, tuple[str, ...]], ...]) -> str:
    """One line per unit: its first warning and how many more; a national list stays short."""
    lines = [msg.digest_warnings(len(warned))]
    for unit, said in warned[:WARNED_SHOWN]:
        lines.append(msg.digest_warning_line(unit.short_name, said[0], len(said) - 1))
    if len(warned) > WARNED_SHOWN:
        lines.append(msg.and_more(len(warned) - WARNED_SHOWN))
    return "\n".join(lines)


def _plan_texts(catalogue: Catalogue, digest: Digest) -> list[str]:
    """Per indicator with milestones: the area's last and next milestone, then the daily
    quota of the units furthest behind beside their actual daily pace."""
    day = day_word(catalogue)
    texts = []
    for plan in digest.plans:
        ind = plan.indicator
        lines = [msg.digest_milestones(ind.short)]
        lines += milestone_lines(catalogue, ind, None, plan.area, digest.today)
        if plan.behind:
            lines.append(msg.DIGEST_DAILY_QUOTAS)
        for b in plan.behind:
            pace = None if b.per_day is None else format_int(whole(b.per_day, round_up=False))
            per_day = format_int(b.quota.per_day)
            lines.append(msg.daily_quota_unit(b.unit.short_name, per_day, b.quota.end, pace, day))
        texts.append("\n".join(lines))
    return texts
