"""The figures of issue 7 that need only the report engine. Order matters: the read figures
run before the ingest figures add a week to the national database."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event

from bench.context import (
    GROUP,
    LAST,
    BenchContext,
    Dataset,
    during,
    leader_message,
    postgres_scratch_database,
)
from bench.registry import Measurement, Registry, median
from bench.synth import store
from bench.synthetic import officer_key
from core.chat import Incoming, render_plain
from core.submission import Submission
from handlers.engine import Engine
from storage import Database

REGISTRY = Registry()
figure = REGISTRY.figure

# --- reading: what leaders ask for ------------------------------------------------------------


async def _command_ms(ctx: BenchContext, data: Dataset, command: str) -> Measurement:
    """Median time of one command, answered from the stored weeks (LAST is "this week")."""
    db = await Database.open(data.sqlite_url)
    try:
        at = during(LAST, data.catalogue)
        engine = Engine(data.catalogue, db, clock=lambda: at)
        message = leader_message(command, at)
        replies = await engine.handle(message)  # warm-up, and a check that it answered
        if not replies or "Lỗi" in render_plain(replies[0].blocks)[:40]:
            raise RuntimeError(f"{command}: unexpected answer {replies!r:.200}")
        samples = []
        for _ in range(max(ctx.repeats * 3, 5)):
            # A minute apart on the engine's clock: a leader asking faster than `[limits]
            # per_minute` would be silenced (handlers.flood), and silence is not the figure.
            at += timedelta(minutes=1)
            started = time.perf_counter()
            await engine.handle(message)
            samples.append((time.perf_counter() - started) * 1000)
        return Measurement(median(samples), note=f"{len(data.catalogue.units)} units")
    finally:
        await db.close()


@figure("status_province_ms", "ms", goal=20, direction="max")
async def status_province_ms(ctx: BenchContext) -> Measurement:
    """/trangthai by a leader for a 100-unit province with a year of reports."""
    return await _command_ms(ctx, await ctx.province(), "/trangthai")


@figure("status_national_ms", "ms", direction="max")
async def status_national_ms(ctx: BenchContext) -> Measurement:
    """/trangthai by a leader for 3,321 units with a year of reports (no official goal)."""
    return await _command_ms(ctx, await ctx.national(), "/trangthai")


@figure("rank_national_ms", "ms", direction="max")
async def rank_national_ms(ctx: BenchContext) -> Measurement:
    """/xephang for one indicator over 3,321 units with a year of reports (no official goal)."""
    return await _command_ms(ctx, await ctx.national(), "/xephang Xác thực ĐDĐT")


# --- ingest: a week of reports through Engine.handle -----------------------------------------


def _batches(messages: Sequence[Incoming], ctx: BenchContext) -> list[Sequence[Incoming]]:
    size = min(ctx.ingest_batch, max(1, len(messages) // ctx.repeats))
    return [messages[i * size : (i + 1) * size] for i in range(ctx.repeats)]


async def _ingest(
    db: Database, data: Dataset, batch: Sequence[Incoming], statements: list[int] | None = None
) -> float:
    """Reports per second: each message handled as a chat message is, one after another.
    With `statements`, the SQL statements sent to the database are counted into it."""
    now = batch[0].sent_at if batch else datetime.now(UTC)
    engine = Engine(data.catalogue, db, clock=lambda: now)
    counter = [0]

    def count(_connection: Connection, _cursor: Any, sql: str, *_: Any) -> None:
        # Every statement sent to the driver, BEGIN included; COMMIT is the driver's commit()
        # and not a statement, and a new connection's PRAGMAs are left out.
        if not sql.startswith("PRAGMA"):
            counter[0] += 1

    if statements is not None:
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        for message in batch:
            now = message.sent_at
            replies = await engine.handle(message)
            first = render_plain(replies[0].blocks) if replies else ""
            if not first.startswith("✅"):
                raise RuntimeError(f"report not accepted: {first[:300]}")
        elapsed = time.perf_counter() - started
    finally:
        if statements is not None:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
            statements.append(counter[0])
    return len(batch) / elapsed


@figure("ingest_sqlite", "reports/s", goal=200, tags=("ingest",))
async def ingest_sqlite(ctx: BenchContext) -> Measurement:
    """/baocao messages of the held week into the national SQLite database (a year stored),
    WAL with synchronous=FULL; bare sqlite3 inserts of the same rows run interleaved."""
    data = await ctx.national()
    batches = _batches(data.ingest_messages(), ctx)
    bare_path = ctx.workdir / "bare.db"
    await _empty_schema(f"sqlite:///{bare_path}")
    rows = {s.unit: s for s in data.held_submissions}
    rates: list[float] = []
    bare_rates: list[float] = []
    statements: list[int] = []
    db = await Database.open(data.sqlite_url)
    try:
        for batch in batches:
            rates.append(await _ingest(db, data, batch, statements))
            bare_rates.append(_bare_sqlite(bare_path, [rows[ctx_unit(m)] for m in batch]))
    finally:
        await db.close()
    ctx.cache["bare_sqlite"] = median(bare_rates)
    ctx.cache["ingest_sqlite"] = median(rates)
    ctx.cache["statements_per_report"] = sum(statements) / sum(len(b) for b in batches)
    note = f"{len(batches)} batches of {len(batches[0])} reports, {ctx.units} units stored"
    return Measurement(median(rates), note=note)


@figure("ingest_sqlite_ratio", "ratio", tags=("ingest",))
async def ingest_sqlite_ratio(ctx: BenchContext) -> Measurement:
    """ingest_sqlite / bare sqlite3 inserting the same rows, one durable commit per report."""
    if "bare_sqlite" not in ctx.cache:
        await ingest_sqlite(ctx)
    ingest, bare = ctx.cache["ingest_sqlite"], ctx.cache["bare_sqlite"]
    return Measurement(ingest / bare, baseline=bare)


@figure("ingest_statements", "statements/report", tags=("ingest",))
async def ingest_statements(ctx: BenchContext) -> Measurement:
    """SQL statements a first report of the week costs on SQLite (BEGIN included, COMMIT not):
    a count, not a time, so it does not move with the machine's load."""
    if "statements_per_report" not in ctx.cache:
        await ingest_sqlite(ctx)
    return Measurement(ctx.cache["statements_per_report"])


def ctx_unit(message: Incoming) -> str:
    return message.user_id.removeprefix("cb_")


async def _empty_schema(url: str) -> None:
    db = await Database.open(url)
    await db.close()


def _bare_sqlite(path: Path, subs: Sequence[Submission]) -> float:
    """The floor: plain sqlite3, the same two rows per report, one durable commit each."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        started = time.perf_counter()
        for s in subs:
            con.execute("BEGIN IMMEDIATE")
            con.execute(
                'INSERT INTO submissions (unit, period, version, is_current, "values", raw_text,'
                " warnings, sender_platform, sender_id, sender_name, chat, sent_at, received_at,"
                " late) VALUES (?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    s.unit,
                    s.period,
                    json.dumps(dict(s.values)),
                    s.raw_text,
                    json.dumps(list(s.warnings)),
                    s.sender.platform,
                    s.sender.user_id,
                    s.sender.name,
                    s.chat,
                    _utc(s.sent_at),
                    _utc(s.sent_at),
                    s.late,
                ),
            )
            con.execute(
                "INSERT INTO audit_log (at, actor, action, unit, period, detail)"
                " VALUES (?, ?, 'report.create', ?, ?, ?)",
                (
                    _utc(s.sent_at),
                    f"sim:{s.sender.user_id}",
                    s.unit,
                    s.period,
                    json.dumps({"version": 1, "changes": []}),
                ),
            )
            con.execute("COMMIT")
        return len(subs) / (time.perf_counter() - started)
    finally:
        con.close()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


# --- PostgreSQL: the same ingest path, in a database of its own -------------------------------

PG_DATABASE = "bench_ingest"  # created and dropped on the bench's server
# Weeks stored before the ingest: enough for every check a report goes through.
PG_WEEKS = 6


@figure("ingest_postgres", "reports/s", goal=300, tags=("ingest", "postgres"))
async def ingest_postgres(ctx: BenchContext) -> Measurement:
    """/baocao messages of the held week into PostgreSQL holding the last weeks nationally."""
    data = await ctx.national()
    async with postgres_scratch_database(ctx, PG_DATABASE) as url, await Database.open(url) as db:
        await store(db, data.stored[-PG_WEEKS:])
        rates = [await _ingest(db, data, batch) for batch in _batches(data.ingest_messages(), ctx)]
    return Measurement(median(rates), note=f"{PG_WEEKS} weeks stored before")


# --- a report while a chart is drawn ----------------------------------------------------------


@figure("report_during_chart_ms", "ms", goal=50, direction="max")
async def report_during_chart_ms(ctx: BenchContext) -> Measurement:
    """One officer's /baocao while a leader's national /bieudo ranking chart (3,321 units) is
    being drawn, SQLite; the baseline is the same report with no chart being drawn. On a copy
    of the national database, so the other figures' data is left as it was."""
    import asyncio
    import dataclasses
    import tempfile

    from bench.synth import message_text
    from render import charts

    data = await ctx.national()
    copy = ctx.workdir / "report_during_chart.db"
    source = sqlite3.connect(data.sqlite_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    db = await Database.open(f"sqlite:///{copy}")
    drawing = asyncio.Event()
    loop = asyncio.get_running_loop()
    real = charts.render_png

    def render_png(spec: charts.ChartSpec) -> bytes:
        loop.call_soon_threadsafe(drawing.set)
        return real(spec)

    charts.render_png = render_png
    try:
        at = during(LAST, data.catalogue)
        engine = Engine(data.catalogue, db, clock=lambda: at)
        engine.files_dir = Path(tempfile.mkdtemp(dir=ctx.workdir))
        officers = sorted(data.held, key=lambda r: r.unit)
        sent = 0

        async def report() -> float:
            nonlocal sent
            base = officers[sent % len(officers)]
            sent += 1
            # Each report changes its figures, so every one is stored (a write transaction).
            bumped = {k: v + sent for k, v in base.values.items()}
            text = message_text(data.catalogue, dataclasses.replace(base, values=bumped))
            user = officer_key(base.unit)
            message = Incoming(
                "sim", GROUP, "group", user, user, text, base.sent_at, update_key=f"r{sent}"
            )
            started = time.perf_counter()
            replies = await engine.handle(message)
            elapsed = (time.perf_counter() - started) * 1000
            if not replies or "✅" not in render_plain(replies[0].blocks):
                raise RuntimeError(f"report not stored: {replies!r:.200}")
            return elapsed

        alone = [await report() for _ in range(max(ctx.repeats * 3, 5))]
        # One national chart (dozens of images) is drawn for tens of seconds: reports go in,
        # one after another, for as long as it draws (at most 100).
        during_chart: list[float] = []
        chart = asyncio.create_task(engine.handle(leader_message("/bieudo Xác thực ĐDĐT", at)))
        await drawing.wait()
        while not chart.done() and len(during_chart) < 100:
            elapsed = await report()
            if not chart.done():
                during_chart.append(elapsed)
        photos = await chart
        if not photos or "Lỗi" in render_plain(photos[0].blocks)[:40]:
            raise RuntimeError(f"/bieudo: unexpected answer {photos!r:.200}")
        if len(during_chart) < 5:
            raise RuntimeError(f"only {len(during_chart)} reports went in while drawing")
        note = f"{len(during_chart)} reports while drawing; alone {median(alone):.1f} ms"
        return Measurement(median(during_chart), baseline=median(alone), note=note)
    finally:
        charts.render_png = real
        await db.close()
