"""The weekly digest: completeness, ranked tables with change, most improved, units at risk.

`read_digest` reads with one query (the current reports of the last weeks), so it stays
cheap at national scale and a caller's transaction short; `compute_digest` does the rest
after the transaction is closed; `digest_replies` turns the result into the posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Unit
from core.chat import Reply, Text
from core.periods import Period
from core.ranking import Ranking, Row, most_improved
from handlers import queries
from handlers.present import improved_heading, names_capped, ranking_summary, signed
from storage import UnitOfWork


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
    )


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
    head = Reply(
        (
            Text.of(msg.digest_title(label, digest.due)),
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
    out.append(Reply((Text.of("\n".join(improved)), Text.of("\n".join(risk)))))
    return out
