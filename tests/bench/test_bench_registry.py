"""The benchmark harness: registration, JSON output and the real figures at a tiny scale.

Nothing here asserts a time: performance is `make bench`'s business.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.context import BenchContext
from bench.figures import REGISTRY
from bench.registry import Measurement, Registry, table, write_json

REQUIRED = {
    "ingest_sqlite",
    "ingest_sqlite_ratio",
    "ingest_postgres",
    "status_province_ms",
    "status_national_ms",
    "rank_national_ms",
}


def test_the_issue_figures_are_registered() -> None:
    assert {f.name for f in REGISTRY.figures} >= REQUIRED


async def test_results_are_written_as_json_with_goals_and_failures(tmp_path: Path) -> None:
    registry = Registry()

    @registry.figure("fast", "ms", goal=20, direction="max")
    async def fast(ctx: object) -> Measurement:
        return Measurement(3.0)

    @registry.figure("ratio", "ratio", goal=0.25)
    async def ratio(ctx: object) -> Measurement:
        return Measurement(0.2, baseline=1000.0)

    @registry.figure("broken", "reports/s")
    async def broken(ctx: object) -> Measurement:
        raise RuntimeError("no database")

    with pytest.raises(ValueError, match="twice"):
        registry.figure("fast", "ms")(fast)

    results = await registry.run(None, log=lambda _: None)
    out = tmp_path / "out" / "bench.json"
    write_json(results, out)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [d["name"] for d in data] == ["fast", "ratio", "broken"]
    assert data[0] == {
        "name": "fast",
        "value": 3.0,
        "unit": "ms",
        "goal": 20,
        "direction": "max",
        "ok": True,
    }
    assert data[1]["ok"] is False
    assert data[1]["baseline"] == 1000.0
    assert data[2]["value"] is None
    assert data[2]["ok"] is False
    assert "no database" in data[2]["error"]
    text = table(results)
    assert "≤ 20.0" in text
    assert "failed" in text


async def test_real_figures_run_at_a_tiny_scale(tmp_path: Path) -> None:
    ctx = BenchContext(
        tmp_path,
        repeats=1,
        units=12,
        weeks=3,
        province_units=6,
        ingest_batch=4,
        log=lambda _: None,
    )
    names = ["status_province_ms", "rank_national_ms", "ingest_sqlite", "ingest_sqlite_ratio"]
    names.append("ingest_statements")
    results = await REGISTRY.run(ctx, names, log=lambda _: None)
    assert [r.error for r in results] == [""] * len(names)
    assert all(r.value is not None and r.value > 0 for r in results)
    ratio = next(r for r in results if r.name == "ingest_sqlite_ratio")
    assert ratio.baseline is not None
    write_json(results, tmp_path / "bench.json")
    assert len(json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))) == len(names)
