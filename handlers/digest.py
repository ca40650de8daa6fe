"""The weekly digest: completeness, ranked tables with change, most improved, units at risk.

`build_digest` gathers the data with one query (the current reports of the last weeks), so
it stays cheap at national scale; `digest_replies` turns it into the posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Unit
from core.chat import Reply, Text
from core.pace import risk_check
from core.periods import Period
from core.ranking import Ranking, Row, most_improved
from handlers.views import SERIES_WEEKS, _signed, rank_expected, ranking_blocks
from storage import UnitOfWork
from storage.repositories import ReportedValues

Values = Mapping[str, int]


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


Series = list[tuple[date, dict[str, Values]]]


async def recent_reports(
    catalogue: Catalogue, uow: UnitOfWork, last: Period
) -> tuple[Series, list[ReportedValues]]:
    """The current reports of the weeks up to `last` (one query): per due date, ascending,
    each unit's values; and the rows themselves."""
    cal = catalogue.calendar
    periods = [last.shift(-n) for n in range(SERIES_WEEKS - 1, -1, -1)]
    subs = await uow.submissions.current_values([p.key for p in periods])
    by_period: dict[str, dict[str, Values]] = {p.key: {} for p in periods}
    for s in subs:
        by_period[s.period][s.unit] = s.values
    return [(cal.due_at(p).date(), by_period[p.key]) for p in periods], subs


async def build_digest(
    catalogue: Catalogue, uow: UnitOfWork, period: Period, now: datetime
) -> Digest:
    cal = catalogue.calendar
    series, subs = await recent_reports(catalogue, uow, period)
    key = period.key  # a property: computed once, not for each of 26,000 rows
    current = {s.unit: s for s in subs if s.period == key}
    units = catalogue.expected_units(period)
    expected = {u.code for u in units}
    values_before, values_now = series[-2][1], series[-1][1]
    rankings = tuple(
        rank_expected(catalogue, i, values_now, values_before, expected)
        for i in catalogue.ranked_indicators
    )
    today = cal.local(now).date()
    return Digest(
        period=period,
        due=cal.due_at(period),
        on_time=tuple(u for u in units if u.code in current and not current[u.code].late),
        late=tuple(u for u in units if u.code in current and current[u.code].late),
        missing=tuple(u for u in units if u.code not in current),
        rankings=rankings,
        improved=tuple(most_improved([r for r in rankings if r.rows])),
        at_risk=_at_risk(catalogue, series, today),
    )


def _at_risk(
    catalogue: Catalogue, series: Series, today: date
) -> tuple[tuple[Indicator, tuple[Unit, ...]], ...]:
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


def digest_replies(catalogue: Catalogue, digest: Digest) -> list[Reply]:
    """Completeness first, then one ranked table per indicator, then the highlights."""
    units = catalogue.expected_units(digest.period)
    label = digest.period.label
    head = Reply(
        (
            Text.of(msg.digest_title(label, digest.due)),
            Text.of(
                msg.status_counts(
                    len(digest.on_time), len(digest.late), len(digest.missing), len(units)
                )
            ),
            Text.of(msg.status_list(msg.STATUS_LATE, [u.short_name for u in digest.late])),
            Text.of(msg.status_list(msg.STATUS_MISSING, [u.short_name for u in digest.missing])),
        )
    )
    out = [head]
    for result in digest.rankings:
        if result.rows:
            out.append(Reply(tuple(ranking_blocks(result, digest.period))))
    improved = [msg.DIGEST_IMPROVED if digest.improved else msg.DIGEST_NO_IMPROVED]
    for row, ind in digest.improved:
        change = _signed(row.change, ind.decimals)
        improved.append(msg.improved_line(row.unit.short_name, ind.short, change))
    risk = [msg.DIGEST_AT_RISK if digest.at_risk else msg.DIGEST_NO_RISK]
    for ind, at_risk in digest.at_risk:
        risk.append("• " + msg.at_risk_units(ind.short, [u.short_name for u in at_risk]))
    out.append(Reply((Text.of("\n".join(improved)), Text.of("\n".join(risk)))))
    return out
