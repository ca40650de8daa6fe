"""Presentation: reply blocks and tables built from data already read and computed.

No database here and nothing is computed twice: the commands (`handlers.views`,
`handlers.files`) and the digest read through `handlers.queries` and format here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from decimal import Decimal
from fractions import Fraction

from core import messages as msg
from core import tiers
from core.catalogue import Catalogue, Indicator, Milestone, Unit
from core.chat import Bold, Reply, Table, Text, reply
from core.numbers import (
    format_decimal,
    format_goal_pct,
    format_int,
    format_pct,
    rate_pct,
    round_half_up,
)
from core.pace import (
    MilestoneStatus,
    Pace,
    Point,
    compute_pace,
    daily_quota,
    last_milestone,
    next_milestone,
    points,
    week_days,
    whole,
)
from core.periods import Period
from core.ranking import Ranking, Ratio, Row, count_columns, total_ratio
from core.submission import Values
from handlers.common import target_text

# A 360-pixel phone shows about this many monospace characters on a line: no table in a
# group chat is wider, or it wraps into an unreadable zigzag.
NARROW = 34
# Rows of one section of a ranking in a group chat: with two sections a ranking stays one
# message even at national scale; the full table is the chart, `/xuat` or a private `/xephang`.
GROUP_ROWS = 40
# Names listed in a line of a group post before "… and N more".
NAMES_LIMIT = 30
# Best and worst units named per indicator in a summary (the digest, `/xephang` in a group).
SUMMARY_UNITS = 3
# Units without figures named per indicator in a summary before "… and N more".
SUMMARY_MISSING = 10


def ranking_blocks(result: Ranking, period: Period, narrow: bool = False) -> list[Text | Table]:
    """The ranked table split into met / not met, as the standing office's letters show it.
    `narrow` (a group chat): rank, short name, rate and change only, each section capped."""
    ind = result.indicator
    blocks: list[Text | Table] = [
        Text.of(msg.ranking_title(ind.name, period.label, target_text(ind), ind.deadline))
    ]
    sections: list[tuple[str, Sequence[Row]]] = []
    if ind.tiers is not None:
        sections += tiers.sections(ind.tiers, result.rows)
    elif ind.target is None:
        sections.append((msg.section_all(len(result.rows)), result.rows))
    else:
        if result.met:
            sections.append((msg.section_met(len(result.met)), result.met))
        if result.not_met:
            sections.append((msg.section_not_met(len(result.not_met)), result.not_met))
    cut = False
    for title, rows in sections:
        if narrow:
            blocks.append(Text.of(Bold(title)))
            blocks.append(_narrow_rank_table(result, rows[:GROUP_ROWS]))
            if len(rows) > GROUP_ROWS:
                blocks.append(Text.of(msg.more_units(len(rows) - GROUP_ROWS)))
                cut = True
        else:
            blocks.append(_rank_table(result, rows, title))
    if result.total is not None:
        blocks.append(Text.of(total_text(result.total)))
    if result.missing:
        names = [u.short_name for u in result.missing]
        blocks.append(Text.of(msg.no_figures(names_capped(names), len(names))))
    if narrow and (cut or result.columns or ind.target is not None):
        blocks.append(Text.of(msg.FULL_RANKING_HINT))
    return blocks


def improved_heading(rankings: Sequence[Ranking], improved: bool) -> str:
    """The digest's "most improved" heading; in a first week there is nothing to rise from."""
    if improved:
        return msg.DIGEST_IMPROVED
    if not any(row.change is not None for r in rankings for row in r.rows):
        return msg.DIGEST_FIRST_WEEK
    return msg.DIGEST_NO_IMPROVED


def ranking_summary(result: Ranking) -> Text:
    """An indicator in a few lines: total, units met, the best and the worst."""
    ind = result.indicator
    rows = result.rows
    lines = []
    if result.total is not None:
        lines.append(total_text(result.total))
    if ind.target is not None:
        lines.append(msg.digest_met(len(result.met), len(rows), target_text(ind)))
    if ind.tiers is not None and rows:
        lines.append(tiers.counts(ind.tiers, rows))

    def named(part: Sequence[Row]) -> list[str]:
        return [f"{r.unit.short_name} {format_pct(r.ratio.rate, ind.decimals)}" for r in part]

    shown = min(SUMMARY_UNITS, len(rows))
    lines.append(msg.digest_top(named(rows[:shown])))
    if len(rows) > shown:
        bottom = rows[max(shown, len(rows) - SUMMARY_UNITS) :]
        lines.append(msg.digest_bottom(named(list(reversed(bottom)))))
    if result.missing:
        names = names_capped([u.short_name for u in result.missing], SUMMARY_MISSING)
        lines.append(msg.no_figures(names, len(result.missing)))
    spans: list[Bold | str] = [Bold(ind.short)]
    spans += ["\n" + line for line in lines]
    return Text(tuple(spans))


def rankings_overview(results: Sequence[Ranking], period: Period) -> list[Text]:
    """Every indicator's ranking in a few lines each, one message for a group: five full
    tables would fill a phone's screen many times over."""
    blocks = [Text.of(msg.rankings_overview_title(period.label))]
    blocks += [ranking_summary(r) for r in results if r.rows]
    blocks.append(Text.of(msg.RANKINGS_OVERVIEW_HINT))
    return blocks


def names_capped(names: Sequence[str], limit: int = NAMES_LIMIT) -> list[str]:
    """The first `limit` names and a count of the rest, so a national list stays one line."""
    if len(names) <= limit:
        return list(names)
    return [*names[:limit], msg.and_more(len(names) - limit)]


def _narrow_rank_table(result: Ranking, rows: Sequence[Row]) -> Table:
    ind = result.indicator
    body = tuple(
        (
            str(n),
            row.unit.short_name,
            format_pct(row.ratio.rate, ind.decimals),
            signed(row.change, ind.decimals),
        )
        for n, row in enumerate(rows, start=1)
    )
    columns = (msg.COL_NO, msg.COL_UNIT, msg.COL_RATE, msg.COL_CHANGE)
    return fit_table(Table(columns, body, "rlrr"))


def table_width(table: Table) -> int:
    grid = [table.columns, *table.rows]
    widths = [max(len(row[i]) for row in grid) for i in range(len(table.columns))]
    return sum(widths) + 2 * (len(widths) - 1)


def fit_table(table: Table, width: int = NARROW) -> Table:
    """The table with its widest text column's long cells cut (with "…") until every line
    fits `width`; names are what grows with scale, numbers keep their size."""
    over = table_width(table) - width
    if over <= 0:
        return table
    texts = [i for i in range(len(table.columns)) if table.alignment(i) == "l"]
    if not texts:
        return table
    col = max(texts, key=lambda i: max(len(r[i]) for r in [table.columns, *table.rows]))
    longest = max(len(r[col]) for r in [table.columns, *table.rows])
    keep = max(len(table.columns[col]), longest - over)

    def cut(cell: str) -> str:
        return cell if len(cell) <= keep else cell[: keep - 1] + "…"

    rows = tuple(tuple(cut(c) if i == col else c for i, c in enumerate(r)) for r in table.rows)
    return Table(table.columns, rows, table.align, table.title)


def _rank_table(result: Ranking, rows: Sequence[Row], title: str) -> Table:
    ind = result.indicator
    extra_names = [c.short for c in result.columns]
    counts = [header for _, header in ind.counts]
    columns = [msg.COL_NO, msg.COL_UNIT, msg.COL_DONE, msg.COL_TOTAL, *counts, msg.COL_RATE]
    columns += extra_names
    columns.append(msg.COL_CHANGE)
    body = []
    for n, row in enumerate(rows, start=1):
        cells = [
            str(n),
            row.unit.short_name,
            format_int(row.ratio.numerator),
            format_int(row.ratio.denominator),
        ]
        cells += ["—" if x is None else format_int(x) for x in count_columns(ind, row)]
        cells.append(format_pct(row.ratio.rate, ind.decimals))
        cells += [format_pct(x.rate if x else None, x.decimals if x else 0) for x in row.extras]
        cells.append(signed(row.change, ind.decimals))
        body.append(tuple(cells))
    align = "rlrrr" + "r" * (len(counts) + len(extra_names)) + "r"
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
        level = ""
        if ind.tiers is not None and (band := ind.tiers.band(row.ratio)) is not None:
            level = f"{tiers.MARKS[band]} {tiers.label(ind.tiers, band)}"
        position = msg.own_rank(row.unit.name, row.position, len(result.rows), rate, row.met, level)
        blocks.append(Text.of(position))
    elif own is not None:
        # Never a title with nothing under it: the unit's absence is said in words.
        blocks.append(Text.of(msg.own_no_figures(own.name)))
    return blocks


def pace_reply(
    cat: Catalogue,
    scope: str,
    today: date,
    series: Sequence[tuple[date, Values]],
    unit: str | None = None,
) -> Reply:
    """`unit`: whose milestones (None: the area's)."""
    lines = []
    for ind in cat.ranked_indicators:
        history = points(ind, series)
        result = compute_pace(ind, history, today)
        if result is not None:
            text = [
                pace_text(cat, ind, result, today),
                *milestone_lines(cat, ind, unit, history, today),
            ]
            lines.append("\n".join(text))
    if not lines:
        return reply(msg.pace_title(scope, today), msg.no_reports_yet("các tuần gần đây"))
    return Reply(tuple(Text.of(t) for t in [msg.pace_title(scope, today), *lines]))


def pace_text(cat: Catalogue, ind: Indicator, p: Pace, today: date) -> str:
    """The pace toward the deadline; what is needed per day is the daily quota (`[pace]`)."""
    rules = cat.pace
    per_day = per_week = None
    if p.deadline is not None:
        need = daily_quota(p.remaining, today, p.deadline, rules, cat.calendar.closed_days)
        per_day, per_week = format_int(need.per_day), format_int(need.per_week)
    actual = None
    if p.weekly_pace is not None:
        actual = format_int(whole(p.weekly_pace / week_days(rules), round_up=False))
    return msg.pace_line(
        indicator=ind.short,
        rate=format_pct(
            rate_pct(p.numerator, p.denominator, ind.decimals, ind.truncate), ind.decimals
        ),
        target=target_text(ind),
        remaining=format_int(p.remaining),
        deadline=p.deadline,
        days_left=p.days_left,
        per_day=per_day,
        per_week=per_week,
        pace=_whole(p.weekly_pace),
        projected=p.projected,
        met=p.met,
        at_risk=p.at_risk,
        day=day_word(cat),
        pace_per_day=actual,
    )


def day_word(cat: Catalogue) -> str:
    return msg.WORKING_DAY if cat.pace.working_days else msg.DAY


def milestone_lines(
    cat: Catalogue, ind: Indicator, unit: str | None, history: Sequence[Point], today: date
) -> list[str]:
    """The last milestone passed (reached or not, by the figures reported by its date) and
    the next one, with its daily quota; `unit` None: the area's milestones."""
    out = []
    last = last_milestone(ind, unit, history, today)
    if last is not None:
        m = last.milestone
        out.append(msg.milestone_last(goal_text(m), m.on, last.reached, share_text(ind, last)))
    upcoming = next_milestone(ind, unit, history, today)
    if upcoming is not None:
        m = upcoming.milestone
        per_day, days = None, 0
        if upcoming.remaining:
            need = daily_quota(upcoming.remaining, today, m.on, cat.pace, cat.calendar.closed_days)
            per_day, days = format_int(need.per_day), need.days
        more = format_int(upcoming.remaining)
        out.append(msg.milestone_next(goal_text(m), m.on, days, more, per_day, day_word(cat)))
    return out


def goal_text(m: Milestone) -> str:
    """`80.000` or `100%`."""
    if m.count is not None:
        return format_int(m.count)
    return format_goal_pct(m.rate or Decimal(0))


def share_text(ind: Indicator, status: MilestoneStatus) -> str:
    share = status.share
    return format_pct(None if share is None else round_half_up(share, ind.decimals), ind.decimals)


def _whole(value: Fraction | None) -> str | None:
    """A per-day or per-week count, rounded up: half a person still has to be found."""
    return None if value is None else format_int(math.ceil(value))


def at_risk_lines(at_risk: Sequence[tuple[Indicator, Sequence[Unit]]]) -> list[str]:
    return [msg.at_risk_units(ind.short, [u.short_name for u in units]) for ind, units in at_risk]


def history_blocks(
    cat: Catalogue,
    rows: Sequence[tuple[date, Values]],
    late: set[date],
    adjusted: AbstractSet[date] = frozenset(),
) -> list[Text | Table]:
    """One narrow table per indicator (week, rate, change): a table with a column per
    indicator is far wider than a phone. Weeks sent late are listed once under them; a week
    whose figures changed after it closed (`adjusted`) is marked in the tables and named."""
    blocks: list[Text | Table] = []
    for ind in cat.ranked_indicators:
        body = []
        previous: Decimal | None = None
        for on, values in rows:
            period = Period.of(on)
            r = total_ratio(ind, [values])
            rate = r.rate if r else None
            change = rate - previous if rate is not None and previous is not None else None
            mark = msg.ADJUSTED_MARK if on in adjusted else ""
            body.append(
                (
                    f"{period.week}/{period.year}{mark}",
                    format_pct(rate, ind.decimals) if r else "—",
                    signed(change, ind.decimals),
                )
            )
            previous = rate if rate is not None else previous
        if all(cells[1] == "—" for cells in body):
            continue
        blocks.append(Text.of(Bold(ind.short)))
        blocks.append(Table((msg.COL_WEEK, msg.COL_RATE, msg.COL_CHANGE), tuple(body), "lrr"))
    weeks = [f"{Period.of(on).week}/{Period.of(on).year}" for on, _ in rows if on in late]
    if weeks:
        blocks.append(Text.of(msg.late_weeks(weeks)))
    marked = [f"{Period.of(on).week}/{Period.of(on).year}" for on, _ in rows if on in adjusted]
    if marked and blocks:
        blocks.append(Text.of(msg.adjusted_weeks(marked)))
    return blocks


def totals_table(
    cat: Catalogue, reports: Sequence[Mapping[str, int]], narrow: bool = False
) -> Table:
    """Each indicator's total; `narrow` (a group chat) leaves out the counts."""
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
    if narrow:
        short = tuple((r[0], r[2], r[3]) for r in rows)
        return fit_table(Table((msg.COL_INDICATOR, msg.COL_RATE, msg.COL_TARGET), short, "lrr"))
    return Table((msg.COL_INDICATOR, "Đạt/Tổng", msg.COL_RATE, msg.COL_TARGET), tuple(rows), "lrrr")


def signed(value: Decimal | None, decimals: int) -> str:
    if value is None:
        return ""
    text = format_decimal(abs(value), decimals)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def total_text(t: Ratio) -> str:
    rate = format_pct(t.rate, t.decimals)
    return msg.group_total(format_int(t.numerator), format_int(t.denominator), rate)
