"""/bieudo (charts) and /xuat (Excel, CSV, the draft weekly report): leaders and admins only.

The data is read in one short transaction (`handlers.queries`); the drawing and the files
come from `render` after it is closed, run with `asyncio.to_thread` so a chart never blocks
the event loop and never holds SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Unit
from core.chat import Document, Photo, Reply, reply
from core.closing import Correction, WeekApproval
from core.pace import carried_units, carry_forward, points
from core.periods import Period, ReportPeriod
from core.ranking import Ranking, rank
from core.submission import Submission, Values
from core.summary import PeriodSummary, summarize
from core.text import key
from handlers import queries
from handlers.closing import approval_of
from handlers.common import Refusal
from handlers.context import Request
from render import charts
from render.report import WeeklyReport, build_report
from storage import UnitOfWork

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv", "docx")
# /bieudo kinds: every accepted word -> the kind's Vietnamese name.
KINDS = {word: kind for kind, words in msg.CHART_KIND_NAMES.items() for word in words}


# The directories `private_files_dir` made in this process: the only ones `release` deletes in.
_private_dirs: set[Path] = set()


def private_files_dir() -> Path:
    """A directory of this process's own for charts and exports: `mkdtemp` makes it with a
    fresh unguessable name and mode 0700, so no other user can read the files or plant a
    link in it (a shared, predictable directory let a planted symlink redirect /xuat)."""
    path = Path(tempfile.mkdtemp(prefix="baocao-de-an-06-"))
    _private_dirs.add(path)
    return path


def remove_private_dir(path: Path) -> None:
    """Remove a directory `private_files_dir` made, with whatever is still in it."""
    _private_dirs.discard(path)
    shutil.rmtree(path, ignore_errors=True)


def release(replies: Iterable[Reply]) -> None:
    """Delete the files `replies` carried, once every platform is done sending them (sent,
    or finally failed): the charts and exports written into a private directory of this
    process. A file anywhere else (the simulator's out directory: the demo's output) is
    never touched. A scheduled job that runs again draws its charts again."""
    for r in replies:
        for block in r.blocks:
            if isinstance(block, Photo | Document) and block.path.parent in _private_dirs:
                try:
                    block.path.unlink(missing_ok=True)
                except OSError:
                    log.exception("could not delete %s after sending it", block.path)


def is_private(directory: Path) -> bool:
    """A private directory of this process (whose files `release` deletes)."""
    return directory in _private_dirs


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to a file only this user can read (0600), never through a symbolic link
    at `path` (O_NOFOLLOW: a planted link is an error, not a redirection)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o600), "wb") as fh:
        fh.write(data)


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
    cat = req.catalogue
    wanted = parse_chart_args(cat, req.args)
    async with req.transaction() as uow:
        period = wanted.period or await queries.reported_period(
            uow, cat.calendar, req.message.sent_at
        )
        if wanted.kind == "xephang":
            current, previous = await queries.week_and_previous(uow, cat, period)
        else:
            recent = await queries.recent(uow, cat, period)
    # Drawn after the transaction: on SQLite it would hold the write lock for reports.
    specs: list[tuple[Indicator, list[charts.ChartSpec]]] = []
    if wanted.kind == "xephang":
        if not current:
            return [reply(msg.no_reports_yet(period.label))]
        rankings = [rank(cat, ind, current, previous) for ind in wanted.indicators]
        specs = _ranking_specs(cat, rankings, period)
    else:
        weeks = queries.since_first_report(recent.weeks)
        for ind in wanted.indicators:
            spec = _series_spec(cat, ind, wanted, weeks, period)
            specs.append((ind, [spec] if spec is not None else []))
    if not any(s for _, s in specs):
        names = ", ".join(i.short for i in wanted.indicators)
        return [reply(msg.chart_no_data(names))]
    folder = req.files_dir
    # A scoped chat's charts differ from the whole set-up's: files of their own.
    scope = wanted.unit.code if wanted.unit else "all" if cat.scope_name is None else req.chat_key
    replies = []
    for ind, ind_specs in specs:
        if not ind_specs:
            replies.append(reply(msg.chart_no_data(ind.short)))
            continue
        stem = f"bieudo_{wanted.kind}_{ind.code}_{scope}_{period.key}"
        photos = await _photos(folder, stem, ind, period, ind_specs)
        replies.append(Reply(tuple(photos)))
    if wanted.kind != "xephang" and wanted.unit is None:
        # The district lines carry late units' last figures (as /tiendo does): say so.
        carried = carried_units([u.code for u in cat.units], weeks)
        if carried:
            replies.append(reply(msg.carried_note(carried, cat.scope)))
    return replies


def _ranking_specs(
    cat: Catalogue, rankings: Sequence[Ranking], period: Period
) -> list[tuple[Indicator, list[charts.ChartSpec]]]:
    start, end = _window(cat, period)
    return [(r.indicator, list(charts.ranking_specs(r, period, start, end))) for r in rankings]


async def ranking_photos(
    cat: Catalogue,
    rankings: Sequence[Ranking],
    period: Period,
    folder: Path,
    tag: str = "all",
    caption: Callable[[Indicator], str] | None = None,
) -> list[Photo]:
    """The charts of rankings already made, for a post that answers no message (the weekly
    digest attaches the ones it printed). `tag` keeps apart the files of the digests of
    several chats drawn at the same time (a scoped chat's key)."""
    photos = []
    for ind, specs in _ranking_specs(cat, rankings, period):
        if specs:
            stem = f"bieudo_xephang_{ind.code}_{tag}_{period.key}"
            said = caption(ind) if caption is not None else None
            photos += await _photos(folder, stem, ind, period, specs, said)
    return photos


async def _photos(
    folder: Path,
    stem: str,
    ind: Indicator,
    period: Period,
    specs: Sequence[charts.ChartSpec],
    caption: str | None = None,
) -> list[Photo]:
    """Render off the event loop: drawing a chart takes a noticeable fraction of a second."""
    paths = await asyncio.to_thread(_write_charts, folder, stem, specs)
    said = caption or msg.chart_caption(ind.short, period.label)
    return [Photo(p, said) for p in paths]


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
    code = None
    if wanted.unit is not None:
        code = wanted.unit.code
        series = [(on, reports[code]) for on, reports in by_date if code in reports]
        scope = wanted.unit.name
    else:
        series = carry_forward([u.code for u in cat.units], by_date)
        scope = cat.scope
    if wanted.kind == "xuhuong":
        return charts.trend_spec(ind, series, scope)
    history, today = points(ind, series), _due_day(cat, period)
    closed = cat.calendar.closed_days
    return charts.progress_spec(ind, history, scope, today, code, cat.pace, closed)


def _write_charts(folder: Path, stem: str, specs: Sequence[charts.ChartSpec]) -> list[Path]:
    paths = []
    for n, spec in enumerate(specs, start=1):
        path = folder / (f"{stem}.png" if len(specs) == 1 else f"{stem}_{n}.png")
        write_private(path, charts.render_png(spec))
        paths.append(path)
    return paths


# --- /xuat ----------------------------------------------------------------------------------


def parse_export_args(text: str, today: date) -> tuple[str, Period | ReportPeriod | None]:
    """`[xlsx|csv|docx] [period]`: a week (`2024-W47`, `47/2024`), or a month, a quarter or a
    year (`thang 11/2024`, `quý 4`, `năm 2024`; without a year, the latest one begun by
    `today`)."""
    fmt, period = "xlsx", None
    named: Period | ReportPeriod | None = None
    try:
        found = ReportPeriod.find(key(text), today)
    except ValueError:
        words = [w for w in text.split() if _format(w) is None]
        raise Refusal(msg.export_period_unknown(" ".join(words))) from None
    if found is not None:
        named, text = found
    for word in text.split():
        if (named_format := _format(word)) is not None:
            fmt = named_format
            continue
        if named is not None:
            raise Refusal(msg.export_format_unknown(word))
        try:
            period = Period.parse(word)
        except ValueError:
            raise Refusal(msg.export_format_unknown(word)) from None
    return fmt, named or period


def _format(word: str) -> str | None:
    """The file format a word names (`xlsx`, `.docx`, `Excel`, `word`), else None."""
    folded = word.casefold().lstrip(".")
    if folded in FORMATS:
        return folded
    return {"excel": "xlsx", "word": "docx"}.get(folded)


async def export(req: Request) -> list[Reply]:
    cat = req.catalogue
    today = cat.calendar.local(req.now()).date()
    fmt, named = parse_export_args(req.args, today)
    if isinstance(named, ReportPeriod):
        return await export_period(req, fmt, named)
    async with req.transaction() as uow:
        period = named or await queries.reported_period(uow, cat.calendar, req.message.sent_at)
        data = await export_data(uow, cat, period)
    if data is None:
        return [reply(msg.no_reports_yet(period.label))]
    scope = req.chat_key if cat.scope_name is not None else ""  # a scoped chat's own file
    path = req.files_dir / export_name(period, fmt, scope)
    await export_file(cat, data, fmt, path, today)
    return [Reply((Document(path, msg.export_caption(fmt, period.label)),))]


async def export_period(req: Request, fmt: str, period: ReportPeriod) -> list[Reply]:
    """`/xuat docx thang 11/2024`: the month's (quarter's, year's) report from its weeks."""
    cat = req.catalogue
    now = req.now()
    today = cat.calendar.local(now).date()
    if period.first_day > today:
        return [reply(msg.export_period_future(period.label))]
    async with req.transaction() as uow:
        summary = await period_summary(uow, cat, period, now)
    if summary is None:
        return [reply(msg.no_reports_in(period.label))]
    scope = req.chat_key if cat.scope_name is not None else ""  # a scoped chat's own file
    path = req.files_dir / export_name(period, fmt, scope)
    await export_period_file(summary, fmt, path, today)
    return [Reply((Document(path, msg.export_caption(fmt, period.label, weekly=False)),))]


async def period_summary(
    uow: UnitOfWork, cat: Catalogue, period: ReportPeriod, now: datetime
) -> PeriodSummary | None:
    """A month's, quarter's or year's summary as of `now` (None: no report in its weeks whose
    due time has passed). Shared by /xuat and `python -m bot export`."""
    weeks, earlier = await queries.period_weeks(uow, cat, period, now)
    approvals = await uow.weeks.standing([w.period.key for w in weeks])
    return summarize(cat, period, weeks, earlier, cat.calendar.local(now).date(), approvals)


async def export_period_file(summary: PeriodSummary, fmt: str, path: Path, today: date) -> Path:
    """Build and write a month's (quarter's, year's) file off the event loop."""

    def build() -> bytes:
        if fmt == "docx":
            from render.docx import period_docx_bytes

            return period_docx_bytes(summary, today)
        if fmt == "csv":
            from render.excel import rankings_csv

            return rankings_csv(summary.rankings)
        from render.excel import period_workbook_bytes

        return period_workbook_bytes(summary)

    payload = await asyncio.to_thread(build)
    await asyncio.to_thread(write_private, path, payload)
    return path


def export_name(period: Period | ReportPeriod, fmt: str, scope: str = "") -> str:
    """`scope`: a scoped chat's key, so its file is never another chat's."""
    return f"bao_cao_{period.key}_{scope}.{fmt}" if scope else f"bao_cao_{period.key}.{fmt}"


@dataclass(frozen=True)
class ExportData:
    """What one period's files are built from, read in one short transaction."""

    period: Period
    reports: list[Submission]
    previous: dict[str, Values]
    versions: list[Submission]
    weeks: list[queries.Week]
    approval: WeekApproval | None = None  # a leader's approval that stands
    corrections: list[Correction] = field(default_factory=list)  # approved ones


async def export_data(uow: UnitOfWork, cat: Catalogue, period: Period) -> ExportData | None:
    """One period's export data; None when nobody reported for it. Shared by /xuat and
    `python -m bot export`. A scoped chat's holds its units' reports, versions and
    corrections only (the raw and history sheets list every row they get)."""
    codes = cat.scope_codes

    def mine(found: list[Submission]) -> list[Submission]:
        return found if codes is None else [s for s in found if s.unit in codes]

    reports = mine(await uow.submissions.current_for_period(period.key))
    if not reports:
        return None
    _, previous = await queries.week_and_previous(uow, cat, period)
    versions = mine(await queries.versions_of_week(uow, period))
    recent = await queries.recent(uow, cat, period)
    approval = await approval_of(uow, period)
    corrections = await uow.corrections.approved_for_period(period.key)
    if codes is not None:
        corrections = [c for c in corrections if c.unit in codes]
    return ExportData(period, reports, previous, versions, recent.weeks, approval, corrections)


async def export_file(cat: Catalogue, data: ExportData, fmt: str, path: Path, today: date) -> Path:
    """Build and write one period's file, off the event loop and outside any transaction."""
    period = data.period
    series = queries.dated(cat.calendar, queries.since_first_report(data.weeks))
    render = _renderer(fmt, today)

    def build() -> bytes:
        # Pace as it stood at the period's due date, so an old week's export does not change.
        report = build_report(
            cat,
            period,
            data.reports,
            data.previous,
            data.versions,
            series,
            _due_day(cat, period),
            _stamp(cat, data.approval),
            _marks(cat, data.corrections),
        )
        return render(report)

    payload = await asyncio.to_thread(build)
    await asyncio.to_thread(write_private, path, payload)
    return path


def _stamp(cat: Catalogue, approval: WeekApproval | None) -> str:
    if approval is None:
        return ""
    return msg.approval_stamp(approval.by_name, cat.calendar.local(approval.at))


def _marks(cat: Catalogue, corrections: Sequence[Correction]) -> dict[tuple[str, int], str]:
    return {
        (c.unit, c.version): (msg.import_correction_mark if c.imported else msg.correction_mark)(
            c.id, c.decided_by_name or "", cat.calendar.local(c.decided_at)
        )
        for c in corrections
        if c.version is not None and c.decided_at is not None
    }


def _renderer(fmt: str, today: date) -> Callable[[WeeklyReport], bytes]:
    if fmt == "csv":
        from render.excel import csv_bytes

        return csv_bytes
    if fmt == "docx":
        from render.docx import docx_bytes

        return lambda report: docx_bytes(report, today)
    from render.excel import workbook_bytes

    return workbook_bytes


def _window(cat: Catalogue, period: Period) -> tuple[date, date]:
    """Reports for a period arrive between the previous due date and its own."""
    return _due_day(cat, period.previous()), _due_day(cat, period)


def _due_day(cat: Catalogue, period: Period) -> date:
    moment: datetime = cat.calendar.due_at(period)
    return cat.calendar.local(moment).date()
