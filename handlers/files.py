"""/bieudo (charts) and /xuat (Excel, CSV, the draft weekly report): leaders and admins only.

The data comes from storage here; the drawing and the files come from `render`, run with
`asyncio.to_thread` so a chart never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Unit
from core.chat import Document, Photo, Reply, reply
from core.pace import carry_forward, points
from core.periods import Period
from core.ranking import Ranking, rank
from core.text import key
from handlers.common import Refusal, require_staff
from handlers.context import Request
from handlers.views import SERIES_WEEKS, _reported_period
from render import charts
from render.report import WeeklyReport, build_report
from storage import UnitOfWork

Values = Mapping[str, int]
FORMATS = ("xlsx", "csv", "docx")
# /bieudo kinds: every accepted word -> the kind's Vietnamese name.
KINDS = {word: kind for kind, words in msg.CHART_KIND_NAMES.items() for word in words}


def default_files_dir() -> Path:
    return Path(tempfile.gettempdir()) / "baocao-de-an-06"


# --- /bieudo --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartRequest:
    kind: str
    indicators: tuple[Indicator, ...]
    unit: Unit | None
    period: Period | None


def parse_chart_args(cat: Catalogue, text: str) -> ChartRequest:
    """`[chỉ tiêu] [đơn vị] [loại] [tuần]` in any order of kind and period; the indicator
    is the longest leading run of words that names one, the rest may name a unit."""
    words = text.split()
    kind, period = "xephang", None
    rest = []
    for word in words:
        folded = key(word).replace(" ", "")
        if folded in KINDS:
            kind = KINDS[folded]
            continue
        try:
            period = Period.parse(word)
            continue
        except ValueError:
            rest.append(word)
    indicators: tuple[Indicator, ...] = cat.ranked_indicators or cat.indicators
    unit = None
    if rest:
        found = _split_indicator_unit(cat, rest)
        if found is None:
            if len(rest) > 1 and cat.find_indicator(" ".join(rest[:-1])) is not None:
                # `/bieudo Xác thực ĐDĐT cot`: a known indicator and an unknown last word.
                raise Refusal(msg.chart_kind_unknown(rest[-1]))
            options = [i.short for i in cat.indicators]
            raise Refusal(msg.chart_indicator_unknown(" ".join(rest), options))
        found_ind, unit = found
        if found_ind is not None:
            indicators = (found_ind,)
    return ChartRequest(kind, indicators, unit, period)


def _split_indicator_unit(
    cat: Catalogue, words: Sequence[str]
) -> tuple[Indicator | None, Unit | None] | None:
    for cut in range(len(words), -1, -1):
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        ind = cat.find_indicator(head) if head else None
        if head and ind is None:
            continue
        if not tail:
            return ind, None
        match = cat.match_unit(tail)
        if match.unit is not None:
            return ind, match.unit
    return None


async def chart(req: Request) -> list[Reply]:
    require_staff(req.actor, msg.CHARTS_LEADERS_ONLY)
    cat = req.catalogue
    wanted = parse_chart_args(cat, req.args)
    period = wanted.period or await _reported_period(req)
    specs: list[tuple[Indicator, list[charts.ChartSpec]]] = []
    if wanted.kind == "xephang":
        specs = await ranking_chart_specs(cat, req.uow, period, wanted.indicators)
        if not specs:
            return [reply(msg.no_reports_yet(period.label))]
    else:
        weeks = await recent_weeks(req.uow, cat, period)
        for ind in wanted.indicators:
            spec = _series_spec(cat, ind, wanted, weeks, period)
            specs.append((ind, [spec] if spec is not None else []))
    if not any(s for _, s in specs):
        names = ", ".join(i.short for i in wanted.indicators)
        return [reply(msg.chart_no_data(names))]
    folder = req.files_dir
    scope = wanted.unit.code if wanted.unit else "all"
    replies = []
    for ind, ind_specs in specs:
        if not ind_specs:
            replies.append(reply(msg.chart_no_data(ind.short)))
            continue
        stem = f"bieudo_{wanted.kind}_{ind.code}_{scope}_{period.key}"
        photos = await _photos(folder, stem, ind, period, ind_specs)
        replies.append(Reply(tuple(photos)))
    return replies


async def ranking_chart_specs(
    cat: Catalogue, uow: UnitOfWork, period: Period, indicators: Sequence[Indicator]
) -> list[tuple[Indicator, list[charts.ChartSpec]]]:
    """Each indicator's ranking images for a period; empty when nobody has reported."""
    rows = await uow.submissions.current_values([period.key, period.previous().key])
    current = {r.unit: r.values for r in rows if r.period == period.key}
    if not current:
        return []
    previous = {r.unit: r.values for r in rows if r.period != period.key}
    return _ranking_specs(cat, [rank(cat, ind, current, previous) for ind in indicators], period)


def _ranking_specs(
    cat: Catalogue, rankings: Sequence[Ranking], period: Period
) -> list[tuple[Indicator, list[charts.ChartSpec]]]:
    start, end = _window(cat, period)
    return [(r.indicator, list(charts.ranking_specs(r, period, start, end))) for r in rankings]


async def ranking_photos(
    cat: Catalogue, rankings: Sequence[Ranking], period: Period, folder: Path
) -> list[Photo]:
    """The charts of rankings already made, for a post that answers no message (the weekly
    digest attaches the ones it printed)."""
    photos = []
    for ind, specs in _ranking_specs(cat, rankings, period):
        if specs:
            stem = f"bieudo_xephang_{ind.code}_all_{period.key}"
            photos += await _photos(folder, stem, ind, period, specs)
    return photos


async def _photos(
    folder: Path, stem: str, ind: Indicator, period: Period, specs: Sequence[charts.ChartSpec]
) -> list[Photo]:
    """Render off the event loop: drawing a chart takes a noticeable fraction of a second."""
    paths = await asyncio.to_thread(_write_charts, folder, stem, specs)
    caption = msg.chart_caption(ind.short, period.label)
    return [Photo(p, caption) for p in paths]


def _series_spec(
    cat: Catalogue,
    ind: Indicator,
    wanted: ChartRequest,
    weeks: Sequence[tuple[Period, Mapping[str, Values]]],
    period: Period,
) -> charts.ChartSpec | None:
    by_date = [(cat.calendar.due_at(p).date(), reports) for p, reports in weeks]
    if wanted.kind == "nhiet":
        return charts.heatmap_spec(cat, ind, weeks)
    if wanted.unit is not None:
        code = wanted.unit.code
        series = [(on, reports[code]) for on, reports in by_date if code in reports]
        scope = wanted.unit.name
    else:
        series = carry_forward([u.code for u in cat.units], by_date)
        scope = msg.GROUP_SCOPE
    if wanted.kind == "xuhuong":
        return charts.trend_spec(ind, series, scope)
    return charts.progress_spec(ind, points(ind, series), scope, _due_day(cat, period))


def _write_charts(folder: Path, stem: str, specs: Sequence[charts.ChartSpec]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, spec in enumerate(specs, start=1):
        path = folder / (f"{stem}.png" if len(specs) == 1 else f"{stem}_{n}.png")
        path.write_bytes(charts.render_png(spec))
        paths.append(path)
    return paths


# --- /xuat ----------------------------------------------------------------------------------


def parse_export_args(text: str) -> tuple[str, Period | None]:
    fmt, period = "xlsx", None
    for word in text.split():
        folded = word.casefold().lstrip(".")
        if folded in FORMATS or folded in ("excel", "word"):
            fmt = {"excel": "xlsx", "word": "docx"}.get(folded, folded)
            continue
        try:
            period = Period.parse(word)
        except ValueError:
            raise Refusal(msg.export_format_unknown(word)) from None
    return fmt, period


async def export(req: Request) -> list[Reply]:
    require_staff(req.actor, msg.FILES_LEADERS_ONLY)
    fmt, period = parse_export_args(req.args)
    period = period or await _reported_period(req)
    if not await req.uow.submissions.current_for_period(period.key):
        return [reply(msg.no_reports_yet(period.label))]
    today = req.catalogue.calendar.local(req.now()).date()
    path = req.files_dir / export_name(period, fmt)
    await export_file(req.catalogue, req.uow, period, fmt, path, today)
    return [Reply((Document(path, msg.export_caption(fmt, period.label)),))]


def export_name(period: Period, fmt: str) -> str:
    return f"bao_cao_{period.key}.{fmt}"


async def export_file(
    cat: Catalogue, uow: UnitOfWork, period: Period, fmt: str, path: Path, today: date
) -> Path:
    """Write one period's export; shared by /xuat and `python -m bot export`."""
    report = await weekly_report(cat, uow, period)
    render = _renderer(fmt, today)
    data = await asyncio.to_thread(render, report)
    await asyncio.to_thread(_write, path, data)
    return path


def _renderer(fmt: str, today: date) -> Callable[[WeeklyReport], bytes]:
    if fmt == "csv":
        from render.excel import csv_bytes

        return csv_bytes
    if fmt == "docx":
        from render.docx import docx_bytes

        return lambda report: docx_bytes(report, today)
    from render.excel import workbook_bytes

    return workbook_bytes


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def weekly_report(cat: Catalogue, uow: UnitOfWork, period: Period) -> WeeklyReport:
    reports = await uow.submissions.current_for_period(period.key)
    previous = {
        s.unit: s.values for s in await uow.submissions.current_for_period(period.previous().key)
    }
    versions = []
    for unit in sorted({s.unit for s in reports}):
        versions += await uow.submissions.versions(unit, period.key)
    weeks = await recent_weeks(uow, cat, period)
    series = [(cat.calendar.due_at(p).date(), r) for p, r in weeks]
    # Pace as it stood at the period's due date, so an old week's export does not change.
    return build_report(cat, period, reports, previous, versions, series, _due_day(cat, period))


async def recent_weeks(
    uow: UnitOfWork, cat: Catalogue, last: Period
) -> list[tuple[Period, dict[str, Values]]]:
    """Reports of the weeks up to `last`, oldest first; weeks before the first report
    anyone sent are left out."""
    periods = [last.shift(-n) for n in range(SERIES_WEEKS - 1, -1, -1)]
    by_period: dict[str, dict[str, Values]] = {p.key: {} for p in periods}
    for s in await uow.submissions.current_for_periods([p.key for p in periods]):
        by_period[s.period][s.unit] = s.values
    weeks = [(p, by_period[p.key]) for p in periods]
    while weeks and not weeks[0][1]:
        weeks.pop(0)
    return weeks


def _window(cat: Catalogue, period: Period) -> tuple[date, date]:
    """Reports for a period arrive between the previous due date and its own."""
    return _due_day(cat, period.previous()), _due_day(cat, period)


def _due_day(cat: Catalogue, period: Period) -> date:
    moment: datetime = cat.calendar.due_at(period)
    return cat.calendar.local(moment).date()
