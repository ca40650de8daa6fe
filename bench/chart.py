"""The ranking chart against bare matplotlib drawing the same bars and texts."""

from __future__ import annotations

import io
import random
import time
import tomllib

from bench.context import BASE_CONFIG, LAST, BenchContext
from bench.figures import REGISTRY
from bench.registry import Measurement, median
from core.catalogue import build_catalogue
from core.ranking import rank
from render.charts import DPI, FONT, WIDTH_IN, ranking_specs, render_png
from render.texts import CHART_RATE_AXIS

figure = REGISTRY.figure


@figure("chart_ranking_ratio", "ratio", goal=1.3, direction="max", tags=("charts",))
async def chart_ranking_ratio(ctx: BenchContext) -> Measurement:
    """The ranking chart of one indicator for the 22 units of config/binh_son.toml (spec and
    PNG) divided by bare matplotlib drawing the same picture like for like: a `Figure` of the
    same size and dpi, `barh` of the same 22 bars and every text the chart draws (title,
    subtitle, unit names, the 22 rate labels, the axis label, the target line and its label,
    the legend) in the same font, with matplotlib's defaults for everything else and its
    default PNG compression; the two interleaved, medians. The note also gives bare `barh`
    without any text, which shows what the texts cost."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    catalogue = build_catalogue(tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8")))
    indicator = catalogue.indicator("eid_verified")
    rng = random.Random(ctx.seed)
    current = {}
    for unit in catalogue.units:
        issued = rng.randint(2_000, 20_000)
        current[unit.code] = {"citizen_id_issued": issued, "eid_verified": rng.randint(0, issued)}
    ranking = rank(catalogue, indicator, current)
    start = catalogue.calendar.due_at(LAST.shift(-7)).date()
    end = catalogue.calendar.due_at(LAST).date()
    (spec,) = ranking_specs(ranking, LAST, start, end)

    def ours() -> int:
        (drawn,) = ranking_specs(ranking, LAST, start, end)
        render_png(drawn)
        return len(drawn.bars)

    bars = ours()
    height = 2.0 + 0.34 * max(bars, 3)  # the size render_png gives a 22-bar ranking
    rates = [float(b.rate) for b in spec.bars]
    ys = list(range(len(rates)))

    def bare() -> int:
        """Not the baseline: the bars alone."""
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.barh(ys, rates)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI)
        return len(buffer.getvalue())

    def same_texts() -> int:
        """The baseline: the bars and every text of the chart, matplotlib's defaults."""
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(fig)
        fig.text(0.02, 0.98, spec.title, family=FONT, va="top")
        fig.text(0.02, 0.95, spec.subtitle, family=FONT, va="top")
        ax = fig.add_subplot()
        ax.barh(ys, rates)
        ax.set_yticks(ys, [b.unit for b in spec.bars], family=FONT)
        ax.set_xlabel(CHART_RATE_AXIS, family=FONT)
        for y, b in zip(ys, spec.bars, strict=True):
            ax.text(b.label_at, y, b.label, va="center", family=FONT)
        if spec.target is not None:
            ax.axvline(spec.target)
            ax.text(spec.target, len(ys), spec.target_label, family=FONT)
        fig.legend(handles=[Patch(facecolor=c, label=t) for c, t in spec.legend])
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI)
        return len(buffer.getvalue())

    bare()  # warm-up: fonts and caches
    same_texts()
    ours_ms: list[float] = []
    baseline_ms: list[float] = []
    bare_ms: list[float] = []
    for _ in range(max(ctx.repeats * 2, 5)):
        for fn, samples in ((ours, ours_ms), (same_texts, baseline_ms), (bare, bare_ms)):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
    if bars != 22:
        raise RuntimeError(f"expected 22 bars, drew {bars}")
    note = (
        f"ours {median(ours_ms):.0f} ms, bare barh with the same texts "
        f"{median(baseline_ms):.0f} ms (the baseline), bare barh alone {median(bare_ms):.0f} ms"
    )
    return Measurement(
        median(ours_ms) / median(baseline_ms), baseline=median(baseline_ms), note=note
    )
