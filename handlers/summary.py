"""A summary chat's weekly digest (`[chats.KEY] digest = "summary"`): at most three
messages whatever the number of units, plus one per-area chart per ranked indicator.

1. completeness: the whole scope's counts, then per area (province or district) the units
   reported out of those expected and how many have not — counted, never listed;
2. each ranked indicator's rate per area, one line per area, and the whole scope's;
3. per ranked indicator: the total, units met, the top and bottom `top` units, and how many
   are at risk by pace.

It reuses the digest's own computation (`handlers.digest.compute_digest`); only the
presentation and the per-area sums are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from core import messages as msg
from core.catalogue import Catalogue, Chat, Unit
from core.chat import Bold, Reply, Text
from core.numbers import format_pct
from core.ranking import Ranking, Ratio, Row, rank, total_ratio
from core.submission import Values
from handlers.common import target_text
from handlers.digest import Digest
from handlers.present import total_text


@dataclass(frozen=True)
class AreaTotals:
    """One area's completeness and, per ranked indicator, the ratio of its units' sums."""

    name: str
    expected: int  # units expected to report this week
    reported: int  # of those, units with a report
    totals: tuple[Ratio | None, ...]  # in the order of the digest's rankings

    @property
    def missing(self) -> int:
        return self.expected - self.reported


def area_of(unit: Unit, level: str) -> str:
    return unit.area(level) or msg.AREA_UNSET


def area_totals(catalogue: Catalogue, digest: Digest, level: str) -> list[AreaTotals]:
    """Per area, in the order the set-up first names it."""
    names: dict[str, None] = {}
    for unit in catalogue.units:
        names.setdefault(area_of(unit, level), None)
    expected: dict[str, int] = dict.fromkeys(names, 0)
    reported: dict[str, int] = dict.fromkeys(names, 0)
    for unit in catalogue.expected_units(digest.period):
        expected[area_of(unit, level)] += 1
    for unit in (*digest.on_time, *digest.late):
        reported[area_of(unit, level)] += 1
    values: list[dict[str, list[Values]]] = []
    for ranking in digest.rankings:
        by_area: dict[str, list[Values]] = {}
        for row in ranking.rows:
            by_area.setdefault(area_of(row.unit, level), []).append(row.values)
        values.append(by_area)
    return [
        AreaTotals(
            name,
            expected[name],
            reported[name],
            tuple(
                total_ratio(ranking.indicator, by_area.get(name, ()))
                for ranking, by_area in zip(digest.rankings, values, strict=True)
            ),
        )
        for name in names
        if expected[name] or any(name in by_area for by_area in values)
    ]


def summary_replies(catalogue: Catalogue, chat: Chat, digest: Digest) -> list[Reply]:
    """The three messages (fewer when there is nothing ranked)."""
    level = chat.summary_by
    areas = area_totals(catalogue, digest, level)
    expected = len(catalogue.expected_units(digest.period))
    head: list[Text] = [Text.of(msg.summary_title(digest.period.label, digest.due))]
    if catalogue.scope_name is not None:
        head.append(Text.of(msg.scope_line(catalogue.scope_name, len(catalogue.units))))
    head.append(
        Text.of(
            msg.status_counts(len(digest.on_time), len(digest.late), len(digest.missing), expected)
        )
    )
    lines = [msg.summary_areas_header(level)]
    lines += [msg.summary_area_line(a.name, a.reported, a.expected, a.missing) for a in areas]
    head.append(Text.of("\n".join(lines)))
    if digest.corrected:  # closed weeks corrected since the last digest, units counted
        head.append(Text.of("\n".join(digest.corrected)))
    out = [Reply(tuple(head))]
    shown = [(n, r) for n, r in enumerate(digest.rankings) if r.rows]
    if not shown:
        return out

    def rates(ratios: Sequence[Ratio | None]) -> list[str]:
        return [
            format_pct(None if t is None else t.rate, r.indicator.decimals)
            for t, (_, r) in zip(ratios, shown, strict=True)
        ]

    lines = [msg.summary_rates_header(level, [r.indicator.short for _, r in shown])]
    for a in areas:
        lines.append(msg.summary_rates_line(a.name, rates([a.totals[n] for n, _ in shown])))
    out.append(
        Reply(
            (
                Text.of("\n".join(lines)),
                Text.of(msg.summary_rates_total(rates([r.total for _, r in shown]))),
            )
        )
    )
    at_risk = {ind.code: len(units) for ind, units in digest.at_risk}
    blocks = [Text.of(msg.summary_units_header(chat.top))]
    blocks += [_indicator_text(r, chat.top, level, at_risk.get(r.indicator.code)) for _, r in shown]
    blocks.append(Text.of(msg.SUMMARY_FULL))
    out.append(Reply(tuple(blocks)))
    return out


def _indicator_text(result: Ranking, top: int, level: str, at_risk: int | None) -> Text:
    ind, rows = result.indicator, result.rows

    def named(part: Sequence[Row]) -> list[str]:
        return [
            f"{r.unit.short_name} ({area_of(r.unit, level)}) "
            f"{format_pct(r.ratio.rate, ind.decimals)}"
            for r in part
        ]

    lines = []
    if result.total is not None:
        lines.append(total_text(result.total))
    if ind.target is not None:
        lines.append(msg.digest_met(len(result.met), len(rows), target_text(ind)))
    shown = min(top, len(rows))
    lines.append(msg.digest_top(named(rows[:shown])))
    if len(rows) > shown:
        lines.append(msg.digest_bottom(named(list(reversed(rows[max(shown, len(rows) - top) :])))))
    if at_risk:
        lines.append(msg.summary_at_risk(at_risk))
    spans: list[Bold | str] = [Bold(ind.short)]
    spans += ["\n" + line for line in lines]
    return Text(tuple(spans))


def area_rankings(catalogue: Catalogue, digest: Digest, level: str) -> list[Ranking]:
    """Each ranked indicator's areas ranked by the ratio of their units' sums (for the
    per-area bar charts): an area is ranked like a unit whose figures are its units' sums."""
    names: dict[str, None] = {}
    for unit in catalogue.units:
        names.setdefault(area_of(unit, level), None)
    units = tuple(Unit(f"area_{n}", name) for n, name in enumerate(names))
    code = {u.name: u.code for u in units}
    view = replace(catalogue, units=units, people=(), chats=(), quotas=(), scope_name=None)
    out = []
    for ranking in digest.rankings:
        if not ranking.rows:
            continue
        ind = replace(ranking.indicator, columns=(), counts=())
        sums: dict[str, dict[str, int]] = {}
        for row in ranking.rows:
            into = sums.setdefault(code[area_of(row.unit, level)], {})
            for field in ind.fields:
                into[field] = into.get(field, 0) + row.values[field]
        out.append(rank(view, ind, sums))
    return out
