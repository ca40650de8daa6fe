"""The ranking chart against bare matplotlib drawing the same bars."""

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
from render.charts import DPI, WIDTH_IN, ranking_specs, render_png

figure = REGISTRY.figure


@figure("chart_ranking_ratio", "ratio", goal=1.3, direction="max", tags=("charts",))
async def chart_ranking_ratio(ctx: BenchContext) -> Measurement:
    """The ranking chart of one indicator for the 22 units of config/binh_son.toml (spec and
    PNG) divided by a bare matplotlib `Figure` + `barh` + `savefig` of the same 22 bars at the
    same size and dpi; the two interleaved, medians."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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

    def ours() -> int:
        (spec,) = ranking_specs(ranking, LAST, start, end)
        render_png(spec)
        return len(spec.bars)

    bars = ours()
    height = 2.0 + 0.34 * max(bars, 3)  # the size render_png gives a 22-bar ranking
    rates = [float(r.ratio.rate or 0) for r in ranking.rows]

    def bare() -> int:
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.barh(range(len(rates)), rates)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI)
        return len(buffer.getvalue())

    names = [r.unit.short_name for r in ranking.rows]
    labels = [f"{rate:.2f}%" for rate in rates]

    def labelled() -> int:
        """Not the baseline: bare plus the chart's 44 texts (unit names, rates), to show
        what the text costs."""
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ys = range(len(rates))
        ax.barh(ys, rates)
        ax.set_yticks(ys, names)
        for y, (rate, label) in enumerate(zip(rates, labels, strict=True)):
            ax.text(rate, y, label, va="center")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI)
        return len(buffer.getvalue())

    bare()  # warm-up: fonts and caches
    labelled()
    ours_ms: list[float] = []
    bare_ms: list[float] = []
    labelled_ms: list[float] = []
    for _ in range(max(ctx.repeats * 2, 5)):
        for fn, samples in ((ours, ours_ms), (bare, bare_ms), (labelled, labelled_ms)):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
    if bars != 22:
        raise RuntimeError(f"expected 22 bars, drew {bars}")
    note = (
        f"ours {median(ours_ms):.0f} ms, bare {median(bare_ms):.0f} ms (the baseline), "
        f"bare with the same 44 texts {median(labelled_ms):.0f} ms"
    )
    return Measurement(median(ours_ms) / median(bare_ms), baseline=median(bare_ms), note=note)
