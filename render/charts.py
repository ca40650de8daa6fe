"""Charts leaders read on a phone: a pure spec step (order, colours, labels: testable without
pixels) and a render step (matplotlib's `Figure` on Agg, imported lazily) giving PNG bytes."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from core import messages as msg
from core import tiers
from core.catalogue import Catalogue, Indicator, PaceRules
from core.numbers import format_goal_pct, format_int, format_pct
from core.pace import (
    Point,
    UnitTrend,
    compute_pace,
    daily_quota,
    last_milestone,
    next_milestone,
)
from core.periods import Period
from core.ranking import Ranking, Row, count_columns, ratio
from core.submission import Values
from core.tiers import Band
from render import texts

if TYPE_CHECKING:  # only for annotations: matplotlib is imported when a chart is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# One palette for every chart.
MET = "#1b8a6b"  # teal green: target reached
NOT_MET = "#e0663a"  # orange: not yet
NEUTRAL = "#3d6fa8"  # blue: no target / the group's line
# An indicator with tiers: one colour per band (core.tiers), the met band as MET.
WARNING = "#e8a317"  # amber: between the two thresholds
CRITICAL = "#c62828"  # red: below the first threshold
BAND_COLOURS = {Band.MET: MET, Band.WARNING: WARNING, Band.CRITICAL: CRITICAL}
TARGET = "#263238"  # the target and deadline marks
PLAN = "#8a94a6"  # the straight line to the target
GRID = "#dfe3e8"
INK = "#1f2933"
MUTED = "#5f6b7a"
MISSING = "#eceff1"

MAX_BARS = 40  # per image; more units give several images
LABEL_SHARE = 0.085  # a bar label's width, as a share of the x axis (`100,00%` at 9 pt)
FONT = "DejaVu Sans"  # ships with matplotlib and has every Vietnamese glyph
WIDTH_IN = 8.0
DPI = 150


def _float(value: Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def _short_date(day: date) -> str:
    return f"{day:%d/%m}"


# --- ranking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    unit: str
    rate: float
    label: str  # the rate as the letters print it, `92,86%`
    colour: str
    # The indicator's count columns after the rate (`Chưa cấp 612`), as the letters print them.
    counts: str = ""
    label_at: float = 0.0  # where the label starts: past the bar, and clear of the target line

    @property
    def text(self) -> str:
        """What is printed past the bar: the rate, then the counts."""
        return f"{self.label} · {self.counts}" if self.counts else self.label


@dataclass(frozen=True)
class RankingSpec:
    title: str
    subtitle: str
    bars: tuple[Bar, ...]  # highest rate first (drawn at the top)
    target: float | None
    target_label: str
    xmax: float
    legend: tuple[tuple[str, str], ...]  # (colour, label)


def _counts(ind: Indicator, row: Row) -> str:
    """`Chưa cấp 612`: the indicator's `counts` columns of one row (empty without them)."""
    if not ind.counts:
        return ""
    cells = count_columns(ind, row)
    return " · ".join(
        f"{header} {format_int(n)}"
        for (_, header), n in zip(ind.counts, cells, strict=True)
        if n is not None
    )


def ranking_specs(
    ranking: Ranking, period: Period, start: date, end: date, max_bars: int = MAX_BARS
) -> list[RankingSpec]:
    """One spec per image of at most `max_bars` bars, in the ranking's order (none when no
    unit has figures)."""
    ind = ranking.indicator
    target = float(ind.target) if ind.target is not None else None
    bars = []
    for row in ranking.rows:
        colour = NEUTRAL if row.met is None else MET if row.met else NOT_MET
        if ind.tiers is not None:
            colour = BAND_COLOURS[tiers.shown_band(ind.tiers, row.ratio)]
        rate = row.ratio.rate
        label = format_pct(rate, ind.decimals)
        bars.append(Bar(row.unit.short_name, _float(rate), label, colour, _counts(ind, row)))
    top = max([b.rate for b in bars] + [target or 0.0, 100.0])
    # Room right of the longest bar for the longest label (a rate is LABEL_SHARE of the axis).
    longest = max((len(b.text) for b in bars), default=7) / 7
    xmax = max(top * 1.16, top * 1.03 / (1 - LABEL_SHARE * longest))
    pad = xmax * 0.008
    placed = []
    for bar in bars:
        width = xmax * LABEL_SHARE * len(bar.text) / 7
        at = bar.rate + pad
        if target is not None and at < target + pad and at + width > target - pad:
            at = target + 2 * pad  # the label would sit on the target line: move past it
        placed.append(dataclasses.replace(bar, label_at=at))
    bars = placed
    legend: tuple[tuple[str, str], ...] = ((NEUTRAL, texts.CHART_NO_TARGET),)
    if ind.tiers is not None:
        bands = sorted(Band, reverse=True)
        legend = tuple((BAND_COLOURS[b], msg.capital(tiers.label(ind.tiers, b))) for b in bands)
    elif target is not None:
        legend = ((MET, texts.CHART_MET), (NOT_MET, texts.CHART_NOT_MET))
    chunks = [bars[i : i + max_bars] for i in range(0, len(bars), max_bars)]
    base = texts.chart_window(period.label, start, end)
    goal_pct = format_goal_pct(ind.target)
    goal = texts.chart_goal(goal_pct, ind.deadline)
    out = []
    for n, chunk in enumerate(chunks, start=1):
        parts = [base, goal] + ([texts.chart_part(n, len(chunks))] if len(chunks) > 1 else [])
        out.append(
            RankingSpec(
                title=ind.name,
                subtitle=" · ".join(p for p in parts if p),
                bars=tuple(chunk),
                target=target,
                target_label=texts.chart_target(format_goal_pct(ind.target))
                if target is not None
                else "",
                xmax=xmax,
                legend=legend,
            )
        )
    return out


# --- trend ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendSpec:
    title: str
    subtitle: str
    dates: tuple[date, ...]
    rates: tuple[float, ...]
    labels: tuple[str, ...]
    target: float | None
    target_label: str
    deadline: date | None
    deadline_label: str


def trend_spec(ind: Indicator, series: UnitTrend, scope: str) -> TrendSpec | None:
    """The rate of `series` (group totals per due date, see core.pace.carry_forward)."""
    dates, rates, labels = [], [], []
    for on, values in series:
        r = ratio(ind, values)
        if r is None or r.rate is None:
            continue
        dates.append(on)
        rates.append(float(r.rate))
        labels.append(format_pct(r.rate, ind.decimals))
    if not dates:
        return None
    return TrendSpec(
        title=texts.chart_trend_title(ind.short, scope),
        subtitle=" · ".join(
            p
            for p in (
                texts.chart_weeks(msg.fmt_date(dates[0]), msg.fmt_date(dates[-1])),
                texts.chart_goal(format_goal_pct(ind.target), ind.deadline),
            )
            if p
        ),
        dates=tuple(dates),
        rates=tuple(rates),
        labels=tuple(labels),
        target=float(ind.target) if ind.target is not None else None,
        target_label=texts.chart_target(format_goal_pct(ind.target))
        if ind.target is not None
        else "",
        deadline=ind.deadline,
        deadline_label=texts.chart_deadline(ind.deadline) if ind.deadline else "",
    )


# --- progress vs plan -----------------------------------------------------------------------


CALENDAR_DAYS = PaceRules()  # the daily quota over calendar days, rounded up (the default)


@dataclass(frozen=True)
class ProgressSpec:
    title: str
    subtitle: str
    dates: tuple[date, ...]
    actual: tuple[int, ...]
    plan: tuple[tuple[date, int], tuple[date, int]] | None  # first point -> target by deadline
    target_count: int
    target_label: str
    deadline: date | None
    deadline_label: str
    # The last milestone passed and the next one: (date, count, label, reached; None: ahead).
    milestones: tuple[tuple[date, int, str, bool | None], ...] = ()


def progress_spec(
    ind: Indicator,
    history: Sequence[Point],
    scope: str,
    today: date,
    unit: str | None = None,
    rules: PaceRules = CALENDAR_DAYS,
    closed: frozenset[date] = frozenset(),
) -> ProgressSpec | None:
    """Cumulative done against the straight line from the first week to the target count
    (core.pace's, on the latest denominator) at the deadline, with the last milestone of
    `unit` (None: the area) and the next one; what is needed a day is the daily quota to the
    deadline as `rules` count it (`[pace]`; `closed`: the calendar's days off)."""
    pace = compute_pace(ind, history, today)
    if pace is None:
        return None
    marks: list[tuple[date, int, str, bool | None]] = []
    last = last_milestone(ind, unit, history, today)
    if last is not None:
        on = last.milestone.on
        marks.append(
            (on, last.goal, texts.chart_milestone(on, format_int(last.goal)), last.reached)
        )
    upcoming = next_milestone(ind, unit, history, today)
    if upcoming is not None:
        on = upcoming.milestone.on
        marks.append(
            (on, upcoming.goal, texts.chart_milestone(on, format_int(upcoming.goal)), None)
        )
    first = history[0]
    plan = None
    if ind.deadline is not None and ind.deadline > first.on:
        plan = ((first.on, first.numerator), (ind.deadline, pace.target_count))
    per_day = None
    if ind.deadline is not None and pace.remaining:
        quota = daily_quota(pace.remaining, today, ind.deadline, rules, closed)
        per_day = format_int(quota.per_day)
    return ProgressSpec(
        title=texts.chart_progress_title(ind.short, scope),
        subtitle=texts.chart_progress_note(
            format_int(pace.numerator),
            format_int(pace.target_count),
            format_int(pace.remaining),
            per_day,
            "ngày làm việc" if rules.working_days else "ngày",
        ),
        dates=tuple(p.on for p in history),
        actual=tuple(p.numerator for p in history),
        plan=plan,
        target_count=pace.target_count,
        target_label=texts.chart_target(format_goal_pct(ind.target)),
        deadline=ind.deadline,
        deadline_label=texts.chart_deadline(ind.deadline) if ind.deadline else "",
        milestones=tuple(marks),
    )


# --- heatmap --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatmapSpec:
    title: str
    subtitle: str
    units: tuple[str, ...]  # rows, best latest rate first
    weeks: tuple[str, ...]  # columns, oldest first
    rates: tuple[tuple[float | None, ...], ...]
    labels: tuple[tuple[str, ...], ...]
    target: float | None  # where the colour turns from "not met" to "met"


def heatmap_spec(
    catalogue: Catalogue, ind: Indicator, weeks: Sequence[tuple[Period, Mapping[str, Values]]]
) -> HeatmapSpec | None:
    """Units × recent weeks of the indicator's rate; a unit without figures shows a dash."""
    grid: dict[str, list[Decimal | None]] = {}
    names: dict[str, str] = {}
    for unit in catalogue.active_units:
        row: list[Decimal | None] = []
        for _, reports in weeks:
            values = reports.get(unit.code)
            r = ratio(ind, values) if values is not None else None
            row.append(r.rate if r is not None else None)
        if any(v is not None for v in row):
            grid[unit.code] = row
            names[unit.code] = unit.short_name

    if not grid:
        return None

    def latest(code: str) -> Decimal:
        return next((v for v in reversed(grid[code]) if v is not None), Decimal(-1))

    order = sorted(grid, key=lambda c: (-latest(c), names[c]))
    labels = tuple(f"{p.week}/{p.year}" for p, _ in weeks)
    return HeatmapSpec(
        title=texts.chart_heatmap_title(ind.short),
        subtitle=" · ".join(
            p
            for p in (
                texts.chart_weeks(labels[0], labels[-1]),
                texts.chart_goal(format_goal_pct(ind.target), ind.deadline),
            )
            if p
        ),
        units=tuple(names[c] for c in order),
        weeks=labels,
        rates=tuple(tuple(None if v is None else float(v) for v in grid[c]) for c in order),
        labels=tuple(
            tuple(format_pct(v, ind.decimals) if v is not None else "—" for v in grid[c])
            for c in order
        ),
        target=float(ind.target) if ind.target is not None else None,
    )


# --- rendering ------------------------------------------------------------------------------

ChartSpec = RankingSpec | TrendSpec | ProgressSpec | HeatmapSpec


def render_png(spec: ChartSpec) -> bytes:
    """Draw a spec; CPU-bound, so async callers run it with `asyncio.to_thread`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if isinstance(spec, RankingSpec):
        height = 2.0 + 0.34 * max(len(spec.bars), 3)
    elif isinstance(spec, HeatmapSpec):
        height = 1.9 + 0.36 * max(len(spec.units), 3)
    else:
        height = 5.2
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.text(
        0.02,
        1 - 0.32 / height,
        spec.title,
        fontsize=13 if len(spec.title) <= 64 else 11,
        fontweight="bold",
        color=INK,
        family=FONT,
        va="top",
    )
    fig.text(
        0.02, 1 - 0.62 / height, spec.subtitle, fontsize=9.5, color=MUTED, family=FONT, va="top"
    )
    if isinstance(spec, RankingSpec):
        _draw_ranking(fig, spec, height)
    elif isinstance(spec, TrendSpec):
        _draw_trend(fig, spec, height)
    elif isinstance(spec, ProgressSpec):
        _draw_progress(fig, spec, height)
    else:
        _draw_heatmap(fig, spec, height)
    buffer = io.BytesIO()
    # zlib level 1 instead of 6: the same pixels, a quarter of the encoding time, a somewhat
    # larger file (a ranking of 22 units: see docs/PERFORMANCE.md).
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GRID)
    ax.tick_params(colors=INK, labelsize=9.5)
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_fontfamily(FONT)


def _axes(fig: Figure, height: float, left: float = 0.22, bottom_in: float = 0.55) -> Axes:
    top = 1 - 1.05 / height
    bottom = bottom_in / height
    return fig.add_axes((left, bottom, 0.95 - left, top - bottom))


def _legend(fig: Figure, items: Sequence[tuple[str, str]], height: float) -> None:
    """Below the plot, so it never covers a bar or its label."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, label=t) for c, t in items]
    fig.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(0.95, 0.08 / height),
        ncol=len(handles),
        frameon=False,
        prop={"family": FONT, "size": 9},
    )


def _draw_ranking(fig: Figure, spec: RankingSpec, height: float) -> None:
    ax = _axes(fig, height, bottom_in=0.9)
    n = len(spec.bars)
    ys = list(range(n))[::-1]  # the first bar at the top
    ax.barh(
        ys, [b.rate for b in spec.bars], color=[b.colour for b in spec.bars], height=0.68, zorder=2
    )
    ax.set_yticks(ys, [b.unit for b in spec.bars])
    ax.set_ylim(-0.7, max(n, 1) - 0.3)
    ax.set_xlim(0, spec.xmax)
    ax.xaxis.grid(True, color=GRID, linewidth=0.8, zorder=0)
    ax.set_xlabel(texts.CHART_RATE_AXIS, fontsize=9.5, color=MUTED, family=FONT)
    for y, bar in zip(ys, spec.bars, strict=True):
        ax.text(
            bar.label_at,
            y,
            bar.text,
            va="center",
            ha="left",
            fontsize=9,
            color=INK,
            family=FONT,
            zorder=4,
            bbox={
                "boxstyle": "square,pad=0.1",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.85,
            },
        )
    if spec.target is not None:
        ax.axvline(spec.target, color=TARGET, linestyle="--", linewidth=1.3, zorder=3)
        ax.text(
            spec.target,
            max(n, 1) - 0.35,
            spec.target_label,
            ha="center",
            va="bottom",
            fontsize=8.5,
            color=TARGET,
            family=FONT,
            clip_on=False,
        )
    _style(ax)
    if n:
        _legend(fig, spec.legend, height)


def _x(day: date) -> float:
    """A date as matplotlib's axis number (days since its epoch)."""
    from matplotlib.dates import date2num

    return float(date2num(day))


def _date_axis(ax: Axes, dates: Sequence[date], deadline: date | None) -> None:
    from matplotlib.dates import DateFormatter

    last = max([*dates, deadline] if deadline else dates)
    first = min(dates)
    span = max((last - first).days, 7)
    ax.set_xlim(_x(first) - span * 0.04 - 1, _x(last) + span * 0.06 + 1)
    ax.xaxis.set_major_formatter(DateFormatter("%d/%m"))
    ax.yaxis.grid(True, color=GRID, linewidth=0.8, zorder=0)


def _deadline(ax: Axes, deadline: date | None, label: str) -> None:
    if deadline is None:
        return
    ax.axvline(_x(deadline), color=TARGET, linestyle=":", linewidth=1.3, zorder=3)
    ax.text(
        _x(deadline),
        1.0,
        label,
        transform=ax.get_xaxis_transform(),
        ha="right",
        va="bottom",
        fontsize=8.5,
        color=TARGET,
        family=FONT,
    )


def _target_line(ax: Axes, value: float, label: str, width: float) -> None:
    ax.axhline(value, color=TARGET, linestyle="--", linewidth=width, zorder=2)
    ax.text(
        0.005,
        value,
        label,
        transform=ax.get_yaxis_transform(),
        ha="left",
        va="bottom",
        fontsize=8.5,
        color=TARGET,
        family=FONT,
    )


def _draw_trend(fig: Figure, spec: TrendSpec, height: float) -> None:
    ax = _axes(fig, height, left=0.1)
    xs = [_x(d) for d in spec.dates]
    ax.plot(xs, spec.rates, color=NEUTRAL, marker="o", linewidth=2.2, zorder=3)
    for x, rate, label in zip(xs, spec.rates, spec.labels, strict=True):
        ax.annotate(
            label,
            (x, rate),
            textcoords="offset points",
            xytext=(0, 9),
            ha="center",
            fontsize=8.5,
            color=INK,
            family=FONT,
            zorder=4,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )
    if spec.target is not None:
        _target_line(ax, spec.target, spec.target_label, 1.3)
    top = max([*spec.rates, spec.target or 0.0])
    ax.set_ylim(0, top * 1.15 + 1)
    ax.set_ylabel(texts.CHART_RATE_AXIS, fontsize=9.5, color=MUTED, family=FONT)
    _date_axis(ax, spec.dates, spec.deadline)
    _deadline(ax, spec.deadline, spec.deadline_label)
    _style(ax)


def _draw_progress(fig: Figure, spec: ProgressSpec, height: float) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = _axes(fig, height, left=0.13)
    xs = [_x(d) for d in spec.dates]
    ax.plot(
        xs,
        spec.actual,
        color=NEUTRAL,
        marker="o",
        linewidth=2.2,
        zorder=3,
        label=texts.CHART_ACTUAL,
    )
    if spec.plan is not None:
        (d0, v0), (d1, v1) = spec.plan
        ax.plot(
            [_x(d0), _x(d1)],
            [v0, v1],
            color=PLAN,
            linestyle="--",
            linewidth=1.6,
            zorder=2,
            label=texts.CHART_PLAN,
        )
    for on, goal, label, reached in spec.milestones:
        colour = PLAN if reached is None else MET if reached else NOT_MET
        ax.scatter([_x(on)], [goal], marker="D", s=46, color=colour, zorder=4)
        ax.annotate(
            label,
            (_x(on), goal),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=8,
            color=colour,
            family=FONT,
        )
    _target_line(ax, spec.target_count, spec.target_label, 1.0)
    low = min(spec.actual)
    top = max([spec.target_count, *(goal for _, goal, _, _ in spec.milestones)])
    ax.set_ylim(max(0.0, low - (top - low) * 0.15 - 1), top * 1.06 + 1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_int(round(v))))
    ax.set_ylabel(texts.CHART_COUNT_AXIS, fontsize=9.5, color=MUTED, family=FONT)
    _date_axis(ax, [*spec.dates, *(on for on, _, _, _ in spec.milestones)], spec.deadline)
    _deadline(ax, spec.deadline, spec.deadline_label)
    _style(ax)
    ax.legend(loc="lower right", prop={"family": FONT, "size": 8.5}, frameon=True, edgecolor=GRID)


def _draw_heatmap(fig: Figure, spec: HeatmapSpec, height: float) -> None:
    from matplotlib.colors import Colormap, LinearSegmentedColormap, Normalize, TwoSlopeNorm

    ax = _axes(fig, height, left=0.2, bottom_in=0.35)
    known = [v for row in spec.rates for v in row if v is not None]
    low, high = min(known), max(known)
    norm: Normalize
    if spec.target is not None:
        # Orange below the target, green from it up: the same split as the ranking bars.
        centre = spec.target
        cmap: Colormap = LinearSegmentedColormap.from_list(
            "met", [(0.0, NOT_MET), (0.4999, "#fbe0d2"), (0.5, "#cdeee2"), (1.0, MET)]
        )
        norm = TwoSlopeNorm(centre, min(low, centre - 1), max(high, centre + 1))
    else:
        cmap = LinearSegmentedColormap.from_list("rate", ["#e4edf7", NEUTRAL])
        norm = Normalize(min(low, high - 1), high)
    cmap = cmap.with_extremes(bad=MISSING)
    data = [[float("nan") if v is None else v for v in row] for row in spec.rates]
    ax.imshow(data, cmap=cmap, norm=norm, aspect="auto")
    ax.set_xticks(range(len(spec.weeks)), spec.weeks)
    ax.set_yticks(range(len(spec.units)), spec.units)
    ax.xaxis.tick_top()
    for i, row in enumerate(spec.labels):
        for j, text in enumerate(row):
            value = spec.rates[i][j]
            # White text on the darkest cells, dark text elsewhere.
            dark = value is not None and abs(float(norm(value)) - 0.5) > 0.33
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else INK,
                family=FONT,
            )
    for side in ax.spines.values():
        side.set_visible(False)
    ax.tick_params(length=0, colors=INK, labelsize=9)
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_fontfamily(FONT)
