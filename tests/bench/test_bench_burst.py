"""`monday_burst_*` and `isolation_p95_ms` (bench/burst.py) at a tiny scale: three real
`python -m bot run` workers on a scratch PostgreSQL database (CI=1) against the enforcing
fake Bot API. Checks what the figures are made of, not their speed."""

from __future__ import annotations

from pathlib import Path

from bench import burst
from bench.context import BenchContext
from bench.figures import REGISTRY
from tests.scratch_pg import postgres_url

FIGURES = [
    "monday_burst_stored",
    "monday_burst_answered",
    "monday_burst_throughput",
    "monday_burst_429_pct",
    "monday_burst_p95_ms",
    "isolation_p95_ms",
    "monday_burst_xacts",
    "monday_burst_cpu_ms",
]


def test_the_figures_are_registered_with_the_issues_goals() -> None:
    figures = {f.name: f for f in REGISTRY.figures}
    assert set(FIGURES) <= set(figures)
    assert (figures["monday_burst_stored"].goal, figures["monday_burst_stored"].direction) == (
        100,
        "min",
    )
    assert figures["monday_burst_answered"].goal == 100
    assert figures["monday_burst_throughput"].goal == 0.9
    assert (figures["monday_burst_429_pct"].goal, figures["monday_burst_429_pct"].direction) == (
        0,
        "max",
    )
    assert (figures["isolation_p95_ms"].goal, figures["isolation_p95_ms"].direction) == (
        2000,
        "max",
    )


async def test_a_tiny_burst_on_three_workers_stores_and_answers_every_report(
    tmp_path: Path,
) -> None:
    # This run's scratch database serves as the server's entry: the bench creates (and drops)
    # a database of its own there. Skips (or fails under CI=1) without a PostgreSQL server.
    server = await postgres_url()
    ctx = BenchContext(tmp_path, units=40, postgres_url=server, log=lambda _: None)
    results = await REGISTRY.run(ctx, FIGURES, log=lambda _: None)
    assert [r.error for r in results] == [""] * len(FIGURES)
    b = ctx.cache["burst"]
    assert b["officers"] == 40
    assert b["stored"] == 40
    assert b["answered"] == 40
    assert b["refused"] == 0  # the workers kept the enforced limits together
    assert b["isolation_answered"] == 40
    assert b["group_refused"] >= 1  # the group was answered 429 during the isolation run
    assert burst.WORKERS == 3
    # Counted from the workers' own database and processes: every update costs at least the
    # webhook's transaction and its handling's, and some CPU.
    assert b["xacts"] >= 2
    assert b["cpu_ms"] > 0
