"""/trangthai, /xephang, /tiendo and /lichsu: what leaders (and officers, for their unit) see."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Unit
from core.chat import Reply, Table, Text, reply
from core.numbers import format_decimal, format_int, format_pct, rate_pct
from core.pace import Pace, carry_forward, compute_pace, points
from core.periods import Period
from core.ranking import Ranking, Ratio, Row, rank, total_ratio
from core.submission import Submission
from handlers.common import Refusal, clip, find_unit, target_text
from handlers.context import Request

Values = Mapping[str, int]
# Weeks of reports read for pace and history.
SERIES_WEEKS = 8


async def status(req: Request) -> list[Reply]:
    if req.actor.role is None:
        return [reply(msg.not_registered())]
    cat = req.catalogue
    period = _period_arg(req) or cat.calendar.current(req.message.sent_at)
    subs = {s.unit: s for s in await req.uow.submissions.current_values([period.key])}
    units = cat.expected_units(period)
    on_time = [u for u in units if u.code in subs and not subs[u.code].late]
    late = [u for u in units if u.code in subs and subs[u.code].late]
    missing = [u for u in units if u.code not in subs]
    blocks: list[Text | Table] = [
        Text.of(msg.status_title(period.label, cat.calendar.due_at(period))),
        Text.of(msg.status_counts(len(on_time), len(late), len(missing), len(units))),
    ]
    if req.actor.is_staff:
        for title, group in (
            (msg.STATUS_ON_TIME, on_time),
            (msg.STATUS_LATE, late),
            (msg.STATUS_MISSING, missing),
        ):
            blocks.append(Text.of(msg.status_list(title, [u.short_name for u in group])))
    elif req.actor.unit is not None:
        own = req.actor.unit
        state = msg.OWN_MISSING
        if own.code in subs:
            state = msg.OWN_LATE if subs[own.code].late else msg.OWN_REPORTED
        blocks.append(Text.of(msg.own_status(own.name, state)))
    totals = _totals_table(cat, [s.values for s in subs.values()])
    if totals.rows:
        blocks += [Text.of(msg.TOTALS_HEADER), totals]
    buttons = (
        ((msg.NUDGE_BUTTON, f"/nhacnho {period.key}"),) if missing and req.actor.is_staff else ()
    )
    return [Reply(tuple(blocks), buttons=buttons)]


async def ranking(req: Request) -> list[Reply]:
    if req.actor.role is None:
        return [reply(msg.not_registered())]
    cat = req.catalogue
    words = req.args.strip()
    period = _period_arg(req)
    indicators: Sequence[Indicator] = cat.ranked_indicators or cat.indicators
    if words and period is None:
        found = cat.find_indicator(words)
        if found is None:
            raise Refusal(msg.indicator_unknown(clip(words), [i.short for i in cat.indicators]))
        indicators = [found]
    period = period or await _reported_period(req)
    current = await _values_for(req, period)
    if not current:
        return [reply(msg.no_reports_yet(period.label))]
    previous = await _values_for(req, period.previous())
    expected = expected_codes(cat, period)
    replies = []
    for ind in indicators:
        result = rank_expected(cat, ind, current, previous, expected)
        if req.actor.is_staff:
            replies.append(Reply(tuple(ranking_blocks(result, period))))
        else:
            replies.append(Reply(tuple(_own_ranking(req, result, period))))
    return replies


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


def ranking_blocks(result: Ranking, period: Period) -> list[Text | Table]:
    """The ranked table split into met / not met, as the standing office's letters show it."""
    ind = result.indicator
    blocks: list[Text | Table] = [
        Text.of(msg.ranking_title(ind.name, period.label, target_text(ind), ind.deadline))
    ]
    if ind.target is None:
        blocks.append(_rank_table(result, result.rows, msg.section_all(len(result.rows))))
    else:
        if result.met:
            blocks.append(_rank_table(result, result.met, msg.section_met(len(result.met))))
        if result.not_met:
            title = msg.section_not_met(len(result.not_met))
            blocks.append(_rank_table(result, result.not_met, title))
    if result.total is not None:
        blocks.append(Text.of(_total_text(result.total)))
    if result.missing:
        blocks.append(Text.of(msg.no_figures([u.short_name for u in result.missing])))
    return blocks


def _rank_table(result: Ranking, rows: Sequence[Row], title: str) -> Table:
    ind = result.indicator
    extra_names = [c.short for c in result.columns]
    columns = [msg.COL_NO, msg.COL_UNIT, msg.COL_DONE, msg.COL_TOTAL, msg.COL_RATE]
    columns += extra_names
    columns.append(msg.COL_CHANGE)
    body = []
    for n, row in enumerate(rows, start=1):
        cells = [
            str(n),
            row.unit.short_name,
            format_int(row.ratio.numerator),
            format_int(row.ratio.denominator),
            format_pct(row.ratio.rate, ind.decimals),
        ]
        cells += [format_pct(x.rate if x else None, x.decimals if x else 0) for x in row.extras]
        cells.append(_signed(row.change, ind.decimals))
        body.append(tuple(cells))
    align = "rlrrr" + "r" * len(extra_names) + "r"
    return Table(tuple(columns), tuple(body), align, title)


def _own_ranking(req: Request, result: Ranking, period: Period) -> list[Text | Table]:
    ind = result.indicator
    blocks: list[Text | Table] = [
        Text.of(msg.ranking_title(ind.name, period.label, target_text(ind), ind.deadline))
    ]
    if result.total is not None:
        blocks.append(Text.of(_total_text(result.total)))
    own = req.actor.unit
    row = next((r for r in result.rows if own is not None and r.unit == own), None)
    if row is not None:
        rate = format_pct(row.ratio.rate, ind.decimals)
        position = msg.own_rank(row.unit.name, row.position, len(result.rows), rate, row.met)
        blocks.append(Text.of(position))
    return blocks


async def pace(req: Request) -> list[Reply]:
    if req.actor.role is None:
        return [reply(msg.not_registered())]
    cat = req.catalogue
    today = cat.calendar.local(req.message.sent_at).date()
    unit = _unit_arg(req)
    series = await _series(req)
    replies = []
    if unit is not None:
        replies.append(_pace_reply(cat, unit.name, today, _unit_points(series, unit)))
    if unit is None or not req.actor.is_staff:
        group = carry_forward([u.code for u in cat.units], series)
        blocks = _pace_reply(cat, msg.GROUP_SCOPE, today, group).blocks
        if req.actor.is_staff:
            blocks += tuple(Text.of(t) for t in _at_risk(cat, series, today))
        replies.append(Reply(blocks))
    return replies


def _pace_reply(
    cat: Catalogue, scope: str, today: date, series: Sequence[tuple[date, Values]]
) -> Reply:
    lines = []
    for ind in cat.ranked_indicators:
        result = compute_pace(ind, points(ind, series), today)
        if result is not None:
            lines.append(pace_text(ind, result))
    if not lines:
        return reply(msg.pace_title(scope, today), msg.no_reports_yet("các tuần gần đây"))
    return Reply(tuple(Text.of(t) for t in [msg.pace_title(scope, today), *lines]))


def pace_text(ind: Indicator, p: Pace) -> str:
    return msg.pace_line(
        indicator=ind.short,
        rate=format_pct(rate_pct(p.numerator, p.denominator, ind.decimals), ind.decimals),
        target=target_text(ind),
        remaining=format_int(p.remaining),
        deadline=p.deadline,
        days_left=p.days_left,
        per_day=_whole(p.per_day),
        per_week=_whole(p.per_week),
        pace=_whole(p.weekly_pace),
        projected=p.projected,
        met=p.met,
        at_risk=p.at_risk,
    )


def _whole(value: Fraction | None) -> str | None:
    """A per-day or per-week count, rounded up: half a person still has to be found."""
    return None if value is None else format_int(math.ceil(value))


Series = Sequence[tuple[date, Mapping[str, Values]]]


def _at_risk(cat: Catalogue, series: Series, today: date) -> list[str]:
    out = []
    for ind in cat.ranked_indicators:
        names = []
        for unit in cat.active_units:
            result = compute_pace(ind, points(ind, _unit_points(series, unit)), today)
            if result is not None and result.at_risk:
                names.append(unit.short_name)
        if names:
            out.append(msg.at_risk_units(ind.short, names))
    return out


async def history(req: Request) -> list[Reply]:
    if req.actor.role is None:
        return [reply(msg.not_registered())]
    cat = req.catalogue
    unit = _unit_arg(req)
    series = await _series(req)
    late: set[date] = set()
    if unit is None:
        rows = carry_forward([u.code for u in cat.units], series)
        scope = msg.GROUP_SCOPE
    else:
        rows = _unit_points(series, unit)
        scope = unit.name
        late = {on for on, _ in rows} & await _late_dates(req, unit)
    rows = [(on, values) for on, values in rows if values]
    if not rows:
        return [reply(msg.no_history(scope))]
    inds = cat.ranked_indicators
    table_rows = []
    for on, values in rows:
        period = Period.of(on)
        cells = [f"{period.week}/{period.year}" + (msg.LATE_MARK if on in late else "")]
        for ind in inds:
            r = total_ratio(ind, [values])
            cells.append(format_pct(r.rate, ind.decimals) if r else "—")
        table_rows.append(tuple(cells))
    columns = (msg.COL_WEEK, *(i.short for i in inds))
    table = Table(columns, tuple(table_rows), "l" + "r" * len(inds))
    return [Reply((Text.of(msg.history_title(scope)), table))]


async def _late_dates(req: Request, unit: Unit) -> set[date]:
    cal = req.catalogue.calendar
    last = cal.current(req.message.sent_at)
    earlier = await req.uow.submissions.history(unit.code, last.next().key, SERIES_WEEKS)
    return {cal.due_at(Period.parse(s.period)).date() for s in earlier if s.late}


# --- helpers ---------------------------------------------------------------------------------


def _signed(value: Decimal | None, decimals: int) -> str:
    if value is None:
        return ""
    text = format_decimal(abs(value), decimals)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def _total_text(t: Ratio) -> str:
    rate = format_pct(t.rate, t.decimals)
    return msg.group_total(format_int(t.numerator), format_int(t.denominator), rate)


def _period_arg(req: Request) -> Period | None:
    try:
        return Period.parse(req.args.strip()) if req.args.strip() else None
    except ValueError:
        return None


def _unit_arg(req: Request) -> Unit | None:
    """The unit named in the arguments; officers may only look at their own."""
    actor = req.actor
    text = req.args.strip()
    if not text:
        return None if actor.is_staff else actor.unit
    unit = find_unit(req.catalogue, text)
    if not actor.is_staff and unit != actor.unit:
        raise Refusal(msg.LEADERS_ONLY)
    return unit


async def _reported_period(req: Request) -> Period:
    """The current period if anyone has reported for it, else the latest one with reports."""
    current = req.catalogue.calendar.current(req.message.sent_at)
    if await req.uow.submissions.has_reports(current.key):
        return current
    latest = await req.uow.submissions.periods_with_reports(1)
    return Period.parse(latest[0]) if latest else current


async def _values_for(req: Request, period: Period) -> dict[str, Values]:
    return {s.unit: s.values for s in await req.uow.submissions.current_values([period.key])}


async def _series(req: Request) -> list[tuple[date, dict[str, Values]]]:
    """Reports of the last weeks up to the current period, by due date, ascending."""
    cal = req.catalogue.calendar
    last = cal.current(req.message.sent_at)
    periods = [last.shift(-n) for n in range(SERIES_WEEKS - 1, -1, -1)]
    subs: list[Submission] = await req.uow.submissions.current_for_periods([p.key for p in periods])
    by_period: dict[str, dict[str, Values]] = {p.key: {} for p in periods}
    for s in subs:
        by_period[s.period][s.unit] = s.values
    return [(cal.due_at(p).date(), by_period[p.key]) for p in periods]


def _unit_points(
    series: Sequence[tuple[date, Mapping[str, Values]]], unit: Unit
) -> list[tuple[date, Values]]:
    return [(on, reports[unit.code]) for on, reports in series if unit.code in reports]


def _totals_table(cat: Catalogue, reports: Sequence[Values]) -> Table:
    rows = []
    for ind in cat.ranked_indicators:
        t = total_ratio(ind, reports)
        if t is None:
            continue
        rows.append(
            (
                ind.short,
                f"{format_int(t.numerator)}/{format_int(t.denominator)}",
                format_pct(t.rate, ind.decimals),
                target_text(ind),
            )
        )
    return Table(("Chỉ tiêu", "Đạt/Tổng", msg.COL_RATE, "Mục tiêu"), tuple(rows), "lrrr")
