"""The weekly digest's data for the whole country, as the scheduler builds it."""

from __future__ import annotations

import time

from bench.context import LAST, BenchContext, during
from bench.figures import REGISTRY
from bench.registry import Measurement, median
from handlers.digest import build_digest
from storage import Database

figure = REGISTRY.figure


@figure("digest_national_ms", "ms", goal=500, direction="max")
async def digest_national_ms(ctx: BenchContext) -> Measurement:
    """`build_digest` (completeness, every ranked table with change, most improved, at risk
    by pace) for 3,321 units with a year stored: its own unit of work, as the scheduler's job."""
    data = await ctx.national()
    db = await Database.open(data.sqlite_url)
    try:
        now = during(LAST, data.catalogue)

        async def once() -> float:
            started = time.perf_counter()
            async with db.unit_of_work() as uow:
                digest = await build_digest(data.catalogue, uow, LAST, now)
            elapsed = (time.perf_counter() - started) * 1000
            if not digest.rankings or not digest.on_time:
                raise RuntimeError("digest without rankings or reports")
            return elapsed

        await once()  # warm-up
        samples = [await once() for _ in range(max(ctx.repeats, 3))]
        return Measurement(median(samples), note=f"{len(data.catalogue.units)} units, SQLite")
    finally:
        await db.close()
