"""A national Monday on three workers: `monday_burst_*` and `isolation_p95_ms` (issue 17).

Three `python -m bot run` processes in webhook mode on one scratch PostgreSQL database, as
deployed behind a balancer, against the fake Bot API server of the tests, which enforces
Telegram's limits (30 messages a second per bot, 20 a minute per group) and answers 429 with
`retry_after` above them. The bench plays Telegram's side: it posts each update to the next
worker's webhook (round robin), with at most 40 requests in flight, Telegram's default
`max_connections` for a webhook (https://core.telegram.org/bots/api#setwebhook).

Reports are sent in private chats: an officer on a Monday morning writes to the bot directly
(the group's 20 messages a minute would make 3,321 replies take 2.8 hours in one group, and
the group is where the digest goes); private replies are bound only by the bot's 30 a
second, the limit the workers must share.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import resource
import signal
import socket
import sys
import time
import tomllib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from bench.context import BASE_CONFIG, LAST, ROOT, BenchContext, postgres_scratch_database
from bench.figures import REGISTRY
from bench.registry import Measurement, median
from bench.synth import message_text, write_config
from bench.synthetic import error_rules, officer_key, series, toml_text
from bench.telegram import TimedBotApi
from core.catalogue import Catalogue
from storage import Database
from testing.fake_telegram import TOKEN, flood, text_update

figure = REGISTRY.figure

WORKERS = 3
WEBHOOK_CONNECTIONS = 40  # Telegram's default max_connections for a webhook
SEND_RATE = 33.21  # reports a second: 3,321 officers within 100 s, above the replies' 30/s
LIMIT = 30  # messages a second the fake takes from the bot before answering 429
SECRET = "bench-burst-secret-0123"
FIRST_ID = 800_000  # the officers' Telegram ids (private chat id = user id)
GROUP_ID = -1009876543210
ISOLATION_OFFICERS = 150  # private reports during the group's flood (10 a second), at most
FLOOD_MESSAGES = 5  # reports posted in the group, each answered in the group (refused)
FLOOD_RETRY_AFTER = 5  # the group's 429: retry_after, seconds


def _setup(ctx: BenchContext) -> tuple[Path, Catalogue, list[str]]:
    """The national synthetic set-up (bench.synth, 3,321 units) with a Telegram id for each
    officer and for the group; the officers' report texts, in unit order."""
    path = ctx.workdir / "burst.toml"
    catalogue = write_config(BASE_CONFIG, path, ctx.units, ctx.seed, "Asia/Ho_Chi_Minh", 34)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["rules"] = error_rules(data)  # synthetic reports follow only the error rules
    data.setdefault("chats", {}).setdefault("nhom_bao_cao", {"title": "Nhóm", "kind": "group"})
    data["chats"]["nhom_bao_cao"]["telegram"] = GROUP_ID
    for n, unit in enumerate(catalogue.units):
        data["people"][officer_key(unit.code)]["telegram"] = FIRST_ID + n
    path.write_text(toml_text(data, "bench: monday_burst"), encoding="utf-8")
    week = series(catalogue, 1, LAST, ctx.seed)[-1]
    by_unit = {r.unit: r for r in week}
    # A unit the series leaves without a report this week (a late habit) sends another
    # unit's figures: on a Monday every officer reports.
    texts = [
        message_text(catalogue, by_unit.get(u.code) or replace(week[n % len(week)], unit=u.code))
        for n, u in enumerate(catalogue.units)
    ]
    return path, catalogue, texts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _workers(
    ctx: BenchContext, api: TimedBotApi, config: Path, db_url: str
) -> AsyncIterator[list[int]]:
    """Three `python -m bot run` in webhook mode; yields their web ports once each has set
    its webhook; SIGTERM afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "WEB"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPYCACHEPREFIX=str(ctx.workdir / "pycache"),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.root,
        DATABASE_URL=db_url,
        CONFIG_PATH=str(config),
        WEBHOOK_URL="https://bot.example.vn/telegram/webhook",
        WEBHOOK_SECRET=SECRET,
        WEB_HOST="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    ports = [_free_port() for _ in range(WORKERS)]
    processes: list[asyncio.subprocess.Process] = []
    logs = []
    try:
        for n, port in enumerate(ports):
            log = (ctx.workdir / f"burst-worker-{n}.log").open("wb")
            logs.append(log)
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "run",
                    cwd=ROOT,
                    env={**env, "WEB_PORT": str(port)},
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + 60
        while len(api.sent("setWebhook")) < WORKERS:
            if time.monotonic() > deadline or any(p.returncode is not None for p in processes):
                raise RuntimeError("a worker did not start: see burst-worker-*.log")
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # menus set, the web servers answering
        yield ports
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        for log in logs:
            log.close()


class _Telegram:
    """Telegram's side of the webhooks: updates posted round robin to the workers, at most
    WEBHOOK_CONNECTIONS at once, each at its moment."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = itertools.cycle(ports)
        self._slots = asyncio.Semaphore(WEBHOOK_CONNECTIONS)
        self._ids = itertools.count(1)
        self.failed = 0

    async def deliver(
        self, session: aiohttp.ClientSession, at: float, update: dict[str, Any]
    ) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        update["update_id"] = next(self._ids)
        port = next(self._ports)
        async with self._slots:
            try:
                async with session.post(
                    f"http://127.0.0.1:{port}/telegram/webhook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                    timeout=aiohttp.ClientTimeout(total=600),
                ) as response:
                    if response.status != 200:
                        self.failed += 1
            except aiohttp.ClientError:
                self.failed += 1


async def _answered(api: TimedBotApi, before: dict[int, int], quiet: float = 60.0) -> None:
    """Until each chat has more replies than `before[chat]`, or no chat got its reply for
    `quiet` seconds: a webhook answers once the update is stored (the inbox), the reply
    comes after."""
    done, since = -1, time.monotonic()
    while True:
        now_done = sum(len(api.sent_at.get(c, [])) > n for c, n in before.items())
        if now_done == len(before):
            return
        if now_done != done:
            done, since = now_done, time.monotonic()
        elif time.monotonic() - since > quiet:
            return
        await asyncio.sleep(0.1)


def _children_cpu_s() -> float:
    """CPU seconds (user and system) of this process's children that have exited: the
    workers, once `_workers` has waited for them."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _transactions(url: str) -> int:
    """Transactions the server has ended in the database (committed or rolled back), as its
    cumulative statistics count them (https://www.postgresql.org/docs/current/monitoring-
    stats.html#MONITORING-PG-STAT-DATABASE-VIEW); the query's own is one of them."""
    db = await Database.open(url)
    try:
        async with db.engine.connect() as connection:
            count = (
                await connection.execute(
                    text(
                        "SELECT xact_commit + xact_rollback FROM pg_stat_database"
                        " WHERE datname = current_database()"
                    )
                )
            ).scalar_one()
    finally:
        await db.close()
    return int(count)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def _run(ctx: BenchContext) -> dict[str, float]:
    if "burst" in ctx.cache:
        cached: dict[str, float] = ctx.cache["burst"]
        return cached
    config, _catalogue, texts = _setup(ctx)
    officers = len(texts)
    api = TimedBotApi()
    await api.start()
    result: dict[str, float] = {}
    try:
        async with postgres_scratch_database(ctx, f"bench_burst_{os.getpid()}") as url:
            db = await Database.open(url)  # migrated once, before the workers start
            await db.close()
            xacts_before = await _transactions(url)
            cpu_before = _children_cpu_s()
            async with (
                _workers(ctx, api, config, url) as ports,
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
            ):
                api.enforce_limits()
                tg = _Telegram(ports)
                # --- the burst: every officer's report, SEND_RATE a second, in private ---------
                start = time.monotonic() + 0.5
                sent_at = {FIRST_ID + n: start + n / SEND_RATE for n in range(officers)}
                await asyncio.gather(
                    *(
                        tg.deliver(session, sent_at[chat], text_update(chat, chat, texts[n]))
                        for n, chat in enumerate(sent_at)
                    )
                )
                await _answered(api, dict.fromkeys(sent_at, 0))
                replies = {c: api.sent_at.get(c, []) for c in sent_at}
                answered = [c for c, times in replies.items() if times]
                latencies = [(replies[c][0] - sent_at[c]) * 1000 for c in answered]
                accepted = [t for chat, t in api.accepted if chat in sent_at]
                drained = max(accepted) - min(accepted) if len(accepted) > 1 else 0.0
                burst_calls = len(api.accepted) + len(api.refused_429)
                result.update(
                    officers=officers,
                    answered=len(answered),
                    rate=len(accepted) / drained if drained else 0.0,
                    drained_s=drained,
                    refused_pct=100 * len(api.refused_429) / max(burst_calls, 1),
                    refused=len(api.refused_429),
                    p95_ms=_p95(latencies),
                    median_ms=median(latencies),
                    webhook_failed=tg.failed,
                )
                # --- isolation: the group floods and is answered 429; officers write privately -
                await asyncio.sleep(2.0)  # the burst's last second has passed
                api.refuse(GROUP_ID, flood(FLOOD_RETRY_AFTER))
                t0 = time.monotonic()
                flood_updates = [
                    tg.deliver(
                        session,
                        t0 + 0.05 * n,
                        text_update(GROUP_ID, FIRST_ID + n, texts[n]),
                    )
                    for n in range(min(FLOOD_MESSAGES, officers))
                ]
                last = FIRST_ID + officers - 1
                private_at = {
                    last - n: t0 + 1.0 + n / 10 for n in range(min(ISOLATION_OFFICERS, officers))
                }
                before = {c: len(api.sent_at.get(c, [])) for c in private_at}
                privately = [
                    tg.deliver(session, at, text_update(chat, chat, texts[chat - FIRST_ID]))
                    for chat, at in private_at.items()
                ]
                flooding = asyncio.gather(*flood_updates)
                await asyncio.gather(*privately)
                await _answered(api, before, quiet=30.0)
                isolated = [
                    (api.sent_at[c][before[c]] - at) * 1000
                    for c, at in private_at.items()
                    if len(api.sent_at.get(c, [])) > before[c]
                ]
                group_refused = sum(
                    1
                    for c in api.calls
                    if c.status == 429 and str(c.params.get("chat_id")) == str(GROUP_ID)
                )
                result.update(
                    isolation_p95_ms=_p95(isolated) if isolated else float("inf"),
                    isolation_median_ms=median(isolated) if isolated else float("inf"),
                    isolation_answered=len(isolated),
                    group_refused=group_refused,
                )
                api.allow(GROUP_ID)  # the flood ends: the group's replies go out, in its window
                await flooding
                updates = officers + len(private_at) + len(flood_updates)
            # The workers have exited (their backends flushed their statistics on the way).
            result["cpu_ms"] = 1000 * (_children_cpu_s() - cpu_before) / updates
            result["xacts"] = (await _transactions(url) - xacts_before) / updates
            engine_db = await Database.open(url)
            try:
                async with engine_db.engine.connect() as connection:
                    stored = (
                        await connection.execute(
                            text("SELECT count(DISTINCT unit) FROM submissions")
                        )
                    ).scalar_one()
            finally:
                await engine_db.close()
            result["stored"] = float(stored)
    finally:
        await api.stop()
    ctx.cache["burst"] = result
    return result


def _note(b: dict[str, float]) -> str:
    return (
        f"{b['officers']:.0f} officers at {SEND_RATE:g}/s to {WORKERS} workers; "
        f"{b['answered']:.0f} answered, {b['stored']:.0f} stored; replies drained in "
        f"{b['drained_s']:.1f} s at {b['rate']:.1f}/s; {b['refused']:.0f} answered 429; "
        f"reply median {b['median_ms'] / 1000:.1f} s, p95 {b['p95_ms'] / 1000:.1f} s"
    )


@figure("monday_burst_stored", "% of officers", goal=100, tags=("telegram", "postgres", "process"))
async def monday_burst_stored(ctx: BenchContext) -> Measurement:
    """Units with a stored report after the burst, as a share of the officers who sent one."""
    b = await _run(ctx)
    return Measurement(100 * b["stored"] / b["officers"], note=_note(b))


@figure("monday_burst_answered", "% of officers", goal=100, tags=("telegram", "postgres"))
async def monday_burst_answered(ctx: BenchContext) -> Measurement:
    """Officers whose report got a reply the server accepted, as a share of all."""
    b = await _run(ctx)
    return Measurement(
        100 * b["answered"] / b["officers"],
        note=f"{b['answered']:.0f} of {b['officers']:.0f}; webhook errors "
        f"{b['webhook_failed']:.0f}",
    )


@figure("monday_burst_throughput", "of 30/s", goal=0.9, tags=("telegram", "postgres", "process"))
async def monday_burst_throughput(ctx: BenchContext) -> Measurement:
    """Replies the server accepted per second from the first to the last, over 30."""
    b = await _run(ctx)
    return Measurement(b["rate"] / LIMIT, note=f"{b['rate']:.1f} replies/s")


@figure(
    "monday_burst_429_pct", "% of requests", goal=0, direction="max", tags=("telegram", "postgres")
)
async def monday_burst_429_pct(ctx: BenchContext) -> Measurement:
    """sendMessage requests of the burst answered 429 by the enforcing server."""
    return Measurement((await _run(ctx))["refused_pct"])


@figure("monday_burst_p95_ms", "ms", direction="max", tags=("telegram", "postgres", "process"))
async def monday_burst_p95_ms(ctx: BenchContext) -> Measurement:
    """From an officer's message to the reply reaching the server, p95 (no goal: it is the
    queue of 3,321 replies at 30 a second)."""
    b = await _run(ctx)
    return Measurement(b["p95_ms"], note=f"median {b['median_ms']:.0f} ms")


@figure("isolation_p95_ms", "ms", goal=2000, direction="max", tags=("telegram", "postgres"))
async def isolation_p95_ms(ctx: BenchContext) -> Measurement:
    """Private reports (150 at most, 10 a second) while one group floods (5 reports posted there,
    every reply to the group answered 429 retry_after 5): p95 of the private replies."""
    b = await _run(ctx)
    return Measurement(
        b["isolation_p95_ms"],
        note=(
            f"{b['isolation_answered']:.0f} answered; median "
            f"{b['isolation_median_ms']:.0f} ms; the group answered 429 "
            f"{b['group_refused']:.0f} times"
        ),
    )


@figure("monday_burst_xacts", "transactions/update", direction="max", tags=("postgres", "process"))
async def monday_burst_xacts(ctx: BenchContext) -> Measurement:
    """Database transactions of the three workers per update they were sent (the burst and the
    isolation run; Procrastinate's, the shared send windows' and the idle workers' leases and
    sweeps included): a count, so it shows what a change costs whatever the machine's speed,
    where `monday_burst_throughput` is held at the replies' limit on a fast machine."""
    return Measurement((await _run(ctx))["xacts"])


@figure("monday_burst_cpu_ms", "CPU ms/update", direction="max", tags=("postgres", "process"))
async def monday_burst_cpu_ms(ctx: BenchContext) -> Measurement:
    """The three workers' CPU time (user and system, start to exit) per update they were sent;
    the database server's is not in it (see `monday_burst_xacts`)."""
    return Measurement((await _run(ctx))["cpu_ms"])
