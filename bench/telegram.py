"""Figures through the real Telegram adapter (python-telegram-bot and our rate limiter)
against the fake Bot API server of the tests (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.context import BASE_CONFIG, LAST, ROOT, BenchContext, postgres_scratch_database
from bench.figures import REGISTRY
from bench.registry import Measurement, median
from bench.synth import message_text
from bench.synthetic import error_rules, series, toml_text
from bot.telegram.bot import TelegramBot, TelegramSettings
from core import messages as msg
from core.catalogue import Catalogue, build_catalogue
from core.chat import Recipient, Reply, Text
from handlers.engine import Engine
from handlers.notify import Outgoing
from handlers.outbox import OutboxRunner, enqueue, new_posts
from storage import Database
from testing.fake_telegram import TOKEN, FakeBotApi, text_update

figure = REGISTRY.figure

OFFICERS = 1000
SERVER_LIMIT = 30  # messages per second the fake server takes before answering 429
FIRST_ID = 500_000  # private chat ids of the synthetic officers


def base_catalogue() -> Catalogue:
    return build_catalogue(tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8")))


@asynccontextmanager
async def telegram(
    ctx: BenchContext, catalogue: Catalogue, name: str
) -> AsyncIterator[tuple[TimedBotApi, TelegramBot, Database]]:
    """The fake server, a fresh SQLite database and the started bot (polling, in this
    process), stopped afterwards."""
    api = TimedBotApi()
    await api.start()
    path = ctx.workdir / f"{name}.db"
    path.unlink(missing_ok=True)  # a fresh database: no post recorded as made yet
    db = await Database.open(f"sqlite:///{path}")
    engine = Engine(catalogue, db, clock=lambda: datetime.now(UTC))
    # A short long-poll so stopping does not wait for one; the rest as in production.
    bot = TelegramBot(engine, TelegramSettings(TOKEN, api.root, poll_timeout_s=1))
    quiet = logging.getLogger("bot.telegram.bot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the expected 429 warnings would flood the table
    try:
        await bot.start()
        try:
            yield api, bot, db
        finally:
            await bot.stop()
    finally:
        quiet.setLevel(level)
        await db.close()
        await api.stop()


async def _broadcast(ctx: BenchContext) -> dict[str, float]:
    """A private reminder to each of 1,000 officers as the scheduler sends it on SQLite: the
    posts enqueued in the outbox in one transaction, then drained (`OutboxRunner`, 8 chats'
    drains side by side, each post recorded in the database as it is made) through
    `TelegramBot.post` with the default TelegramSettings, the server answering 429 above 30
    messages a second."""
    if "broadcast" in ctx.cache:
        cached: dict[str, float] = ctx.cache["broadcast"]
        return cached
    catalogue = base_catalogue()
    due = catalogue.calendar.due_at(LAST)
    unit = catalogue.units[0]
    text = msg.missing_private(unit.name, LAST.label, due)
    posts = [
        Outgoing(
            Recipient(f"cb_{n}", f"Cán bộ {n}", (("telegram", str(FIRST_ID + n)),), False),
            Reply((Text.of(text),)),
        )
        for n in range(OFFICERS)
    ]
    async with telegram(ctx, catalogue, "broadcast") as (api, bot, db):
        api.rate_limit = SERVER_LIMIT
        rows = new_posts("bench-broadcast", LAST.key, posts, ["telegram"], due + timedelta(hours=1))
        runner = OutboxRunner(catalogue, db, [bot], concurrent=True)
        async with db.unit_of_work() as uow:
            chats = await enqueue(uow, rows, due)
            await uow.commit()
        started = time.perf_counter()  # the send rate: from the first drain on
        made = (await runner.wake(chats, due)).made
        elapsed = time.perf_counter() - started
        sends = [c for c in api.calls if c.method == "sendMessage"]
    delivered = {int(c.params["chat_id"]) for c in sends if c.status == 200}
    refused = sum(c.status == 429 for c in sends)
    result = {
        "rate": len(delivered) / elapsed,
        "lost": float(OFFICERS - len(delivered)),
        "refused_pct": 100 * refused / max(len(sends), 1),
        "elapsed": elapsed,
        "requests": float(len(sends)),
        "made": float(made),
    }
    ctx.cache["broadcast"] = result
    return result


@figure("broadcast_rate", "messages/s", goal=27, tags=("telegram",))
async def broadcast_rate(ctx: BenchContext) -> Measurement:
    """Messages the server accepted per second, 1,000 private reminders."""
    b = await _broadcast(ctx)
    note = (
        f"{OFFICERS - b['lost']:.0f} delivered in {b['elapsed']:.1f} s, {b['requests']:.0f} "
        f"requests; the outbox counted {b['made']:.0f} made"
    )
    return Measurement(b["rate"], note=note)


@figure("broadcast_lost", "messages", goal=0, direction="max", tags=("telegram",))
async def broadcast_lost(ctx: BenchContext) -> Measurement:
    """Reminders of the 1,000 never accepted by the server."""
    return Measurement((await _broadcast(ctx))["lost"])


@figure("broadcast_429_pct", "% of requests", goal=0.99, direction="max", tags=("telegram",))
async def broadcast_429_pct(ctx: BenchContext) -> Measurement:
    """Share of sendMessage requests answered 429 (goal: fewer than 1 %)."""
    return Measurement((await _broadcast(ctx))["refused_pct"])


class TimedBotApi(FakeBotApi):
    """The fake server noting when calls arrive (time.monotonic): the first getUpdates, and
    each message sent to a chat."""

    def __init__(self) -> None:
        super().__init__()
        self.first_poll: float | None = None
        self.sent_at: dict[int, list[float]] = {}

    async def api_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if self.first_poll is None:
            self.first_poll = time.monotonic()
        return await super().api_getUpdates(params, files)

    async def api_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        result = await super().api_sendMessage(params, files)
        self.sent_at.setdefault(int(params["chat_id"]), []).append(time.monotonic())
        return result


# --- start-up: `python -m bot run` as a process ------------------------------------------------

GROUP_ID = -1001234567890


def write_setup(path: Path, groups: int = 0) -> Catalogue:
    """config/binh_son.toml with a Telegram id for its group; with `groups`, that many more
    groups each with an officer of its own unit (ids GROUP_ID - n and FIRST_ID + n)."""
    data = tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8"))
    data["rules"] = error_rules(data)  # the replies timed are to synthetic reports
    data["chats"]["nhom_bao_cao"]["telegram"] = GROUP_ID
    for n, unit in enumerate(data["units"][:groups], start=1):
        data["chats"][f"nhom_{n}"] = {
            "title": f"Nhóm {n}",
            "kind": "group",
            "telegram": GROUP_ID - n,
        }
        data["people"][f"cb_bench_{n}"] = {
            "name": f"Cán bộ {n}",
            "role": "officer",
            "unit": unit["code"],
            "telegram": FIRST_ID + n,
        }
    path.write_text(toml_text(data, "bench set-up"), encoding="utf-8")
    return build_catalogue(tomllib.loads(path.read_text(encoding="utf-8")))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@asynccontextmanager
async def bot_process(
    ctx: BenchContext, api: TimedBotApi, config: Path, db_url: str, log: Path | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, float]]:
    """`python -m bot run` polling `api` as deployed: the process, and the seconds from
    spawning it to its first getUpdates; stopped with SIGTERM afterwards. Its log (WARNING and
    above) goes to `log`, or is shown if it never polls."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "WEB"))}
    # As deployed: Python caches compiled modules (this machine's environment turns that off
    # with PYTHONDONTWRITEBYTECODE, which made every start compile our ~60 modules again).
    # The cache goes to the work directory, not the checkout: the first fresh start fills it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPYCACHEPREFIX=str(ctx.workdir / "pycache"),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.root,
        DATABASE_URL=db_url,
        CONFIG_PATH=str(config),
        LOG_LEVEL="WARNING",
    )
    log_path = log or ctx.workdir / "bot_process.log"
    with log_path.open("wb") as log_file:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            deadline = started + 30
            while api.first_poll is None:
                if process.returncode is not None or time.monotonic() > deadline:
                    err = log_path.read_text(encoding="utf-8", errors="replace")
                    raise RuntimeError(f"bot run did not poll: {err[-800:]}")
                await asyncio.sleep(0.005)
            yield process, api.first_poll - started
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _start_once(ctx: BenchContext, config: Path, db_url: str) -> tuple[float, float]:
    """(seconds from spawning `python -m bot run` to its first getUpdates, RSS in MB once it
    polls)."""
    api = TimedBotApi()
    await api.start()
    try:
        async with bot_process(ctx, api, config, db_url) as (process, startup):
            await asyncio.sleep(1.0)  # settled, polling, nothing to process
            return startup, _rss_mb(process.pid)
    finally:
        await api.stop()


async def _startups(ctx: BenchContext) -> dict[str, list[tuple[float, float]]]:
    if "startups" not in ctx.cache:
        config = ctx.workdir / "startup.toml"
        write_setup(config)
        runs = max(3, ctx.repeats)
        fresh = []
        for n in range(runs):
            fresh.append(await _start_once(ctx, config, f"sqlite:///{ctx.workdir}/fresh{n}.db"))
        restart = []
        for _ in range(runs):  # the last fresh database, migrated already
            restart.append(await _start_once(ctx, config, f"sqlite:///{ctx.workdir}/fresh0.db"))
        ctx.cache["startups"] = {"fresh": fresh, "restart": restart}
    result: dict[str, list[tuple[float, float]]] = ctx.cache["startups"]
    return result


@figure("startup_s", "s", goal=1.5, direction="max", tags=("telegram", "process"))
async def startup_s(ctx: BenchContext) -> Measurement:
    """`python -m bot run` in polling mode against the fake server, from spawning the process
    to the first getUpdates the server receives; the usual restart (database already at the
    newest schema). The note gives the first start on a fresh database too."""
    runs = await _startups(ctx)
    fresh = median([s for s, _ in runs["fresh"]])
    return Measurement(
        median([s for s, _ in runs["restart"]]), note=f"fresh database: {fresh:.2f} s"
    )


@figure("idle_rss_mb", "MB", goal=90, direction="max", tags=("telegram", "process"))
async def idle_rss_mb(ctx: BenchContext) -> Measurement:
    """VmRSS of that process a second after its first getUpdates, nothing processed; after
    a restart (the note: on a fresh database)."""
    runs = await _startups(ctx)
    fresh = median([r for _, r in runs["fresh"]])
    return Measurement(
        median([r for _, r in runs["restart"]]), note=f"fresh database: {fresh:.1f} MB"
    )


# --- replies: 20 groups at once ------------------------------------------------------------

GROUPS = 20
ROUNDS = 8


@figure("reply_p95_ms", "ms", goal=100, direction="max", tags=("telegram", "process"))
async def reply_p95_ms(ctx: BenchContext) -> Measurement:
    """20 configured groups, each with its own officer, send a `/baocao` at the same moment
    (one update each on the fake server); the time from an update being available to its
    reply reaching the server, p95 over 8 rounds (160 replies). The bot is `python -m bot run`
    polling, as deployed (the fake server and this harness run in the bench's process, as
    Telegram's servers are not on the bot's CPU); SQLite with WAL and synchronous=FULL.
    Rounds are 1.2 s apart so the 20 replies stay within Telegram's 30 messages a second (and
    20 a minute per group)."""
    fresh = ctx.workdir / f"groups-{time.time_ns()}.db"  # no report stored yet
    return await _reply_p95(ctx, f"sqlite:///{fresh}")


@figure("reply_p95_ms_postgres", "ms", goal=100, direction="max", tags=("telegram", "postgres"))
async def reply_p95_ms_postgres(ctx: BenchContext) -> Measurement:
    """The same on PostgreSQL (a database of its own), where the 20 reports commit in
    parallel instead of one after another."""
    async with postgres_scratch_database(ctx, "bench_replies") as url:
        return await _reply_p95(ctx, url)


async def _reply_p95(ctx: BenchContext, db_url: str) -> Measurement:
    config = ctx.workdir / "groups.toml"
    catalogue = write_setup(config, GROUPS)
    officers = [p for p in catalogue.people if p.key.startswith("cb_bench_")]
    units = [p.unit for p in officers]
    weeks = series(catalogue, ROUNDS + 4, LAST, ctx.seed)
    texts: dict[str, list[str]] = {}
    for unit in units:
        found = [r for week in weeks for r in week if r.unit == unit]
        texts[str(unit)] = [message_text(catalogue, r) for r in found][-ROUNDS:]
    if any(len(t) < ROUNDS for t in texts.values()):
        raise RuntimeError("the synthetic series has too few reports for a group's unit")
    latencies: list[float] = []
    api = TimedBotApi()
    await api.start()
    try:
        async with bot_process(ctx, api, config, db_url, ctx.workdir / "groups.log"):
            for round_ in range(ROUNDS):
                pushed: dict[int, float] = {}
                before = {chat: len(times) for chat, times in api.sent_at.items()}
                for n, person in enumerate(officers, start=1):
                    chat = GROUP_ID - n
                    update = text_update(chat, FIRST_ID + n, texts[str(person.unit)][round_])
                    pushed[chat] = time.monotonic()
                    api.push(update)
                deadline = time.monotonic() + 20
                while any(len(api.sent_at.get(c, ())) <= before.get(c, 0) for c in pushed):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"round {round_}: not every group was answered")
                    await asyncio.sleep(0.002)
                # The reply's first message (a report is answered in one: checked below).
                latencies += [
                    (api.sent_at[chat][before.get(chat, 0)] - at) * 1000
                    for chat, at in pushed.items()
                ]
                await asyncio.sleep(1.2)
            refused = sum(c.status != 200 for c in api.calls if c.method == "sendMessage")
            answers = sorted(len(api.sent_at.get(GROUP_ID - n, ())) for n in range(1, GROUPS + 1))
    finally:
        await api.stop()
    if refused:
        raise RuntimeError(f"{refused} replies refused by the server")
    if answers != [ROUNDS] * GROUPS:
        raise RuntimeError(f"expected one message per report, got {answers} per group")
    latencies.sort()
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    note = (
        f"{len(latencies)} replies: median {median(latencies):.0f} ms, max {latencies[-1]:.0f} ms"
    )
    return Measurement(p95, note=note)
