"""Presentation: reply blocks and tables built from data already read and computed.

No database here and nothing is computed twice: the commands (`handlers.views`,
`handlers.files`) and the digest read through `handlers.queries` and format here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Unit
from core.chat import Reply, Table, Text, reply
from core.numbers import format_decimal, format_int, format_pct, rate_pct
from core.pace import Pace, compute_pace, points
from core.periods import Period
from core.ranking import Ranking, Ratio, Row, total_ratio
from core.submission import Values
from handlers.common import target_text


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
        blocks.append(Text.of(total_text(result.total)))
    if result.missing:
        blocks.append(Text.of(msg.no_figures([u.short_name for u in result.missing])))
    return blocks


def improved_heading(rankings: Sequence[Ranking], improved: bool) -> str:
    """The digest's "most improved" heading; in a first week there is nothing to rise from."""
    if improved:
        return msg.DIGEST_IMPROVED
    if not any(row.change is not None for r in rankings for row in r.rows):
        return msg.DIGEST_FIRST_WEEK
    return msg.DIGEST_NO_IMPROVED


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
        cells.append(signed(row.change, ind.decimals))
        body.append(tuple(cells))
    align = "rlrrr" + "r" * len(extra_names) + "r"
    return Table(tuple(columns), tuple(body), align, title)


def own_ranking_blocks(result: Ranking, period: Period, own: Unit | None) -> list[Text | Table]:
    """An officer's view of a ranking: the group's total and the own unit's place."""
    ind = result.indicator
    blocks: list[Text | Table] = [
        Text.of(msg.ranking_title(ind.name, period.label, target_text(ind), ind.deadline))
    ]
    if result.total is not None:
        blocks.append(Text.of(total_text(result.total)))
    row = next((r for r in result.rows if own is not None and r.unit == own), None)
    if row is not None:
        rate = format_pct(row.ratio.rate, ind.decimals)
        position = msg.own_rank(row.unit.name, row.position, len(result.rows), rate, row.met)
        blocks.append(Text.of(position))
    return blocks


def pace_reply(
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


def at_risk_lines(at_risk: Sequence[tuple[Indicator, Sequence[Unit]]]) -> list[str]:
    return [msg.at_risk_units(ind.short, [u.short_name for u in units]) for ind, units in at_risk]


def history_table(cat: Catalogue, rows: Sequence[tuple[date, Values]], late: set[date]) -> Table:
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
    return Table(columns, tuple(table_rows), "l" + "r" * len(inds))


def totals_table(cat: Catalogue, reports: Sequence[Mapping[str, int]]) -> Table:
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


def signed(value: Decimal | None, decimals: int) -> str:
    if value is None:
        return ""
    text = format_decimal(abs(value), decimals)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def total_text(t: Ratio) -> str:
    rate = format_pct(t.rate, t.decimals)
    return msg.group_total(format_int(t.numerator), format_int(t.denominator), rate)
