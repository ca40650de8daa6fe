"""What figures share within one run: a work directory and data sets generated once."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.synth import message_text, store, submissions, write_config
from bench.synthetic import SynthReport, officer_key, series
from core.catalogue import Catalogue
from core.chat import Incoming
from core.periods import Period
from core.submission import Submission
from storage import Database, normalize_url

ROOT = Path(__file__).resolve().parents[1]
BASE_CONFIG = ROOT / "config" / "binh_son.toml"
# The last stored week; the week after it is held back for the ingest figures.
LAST = Period(2024, 47)
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
GROUP = "nhom_bao_cao"
LEADER = "lanh_dao"


@dataclass
class Dataset:
    """A synthetic set-up with `weeks` weeks stored in SQLite, and the next week held back."""

    name: str
    catalogue: Catalogue
    sqlite_url: str
    stored: list[list[Submission]]  # the stored weeks, oldest first
    held: list[SynthReport]  # the week after the last stored one, not stored
    held_submissions: list[Submission]  # the held week as the rows the engine stores

    def ingest_messages(self) -> list[Incoming]:
        """The held week as its officers send it, in the order they send it; each with the
        update key a platform gives it (recorded with the report, its answer kept beside it)."""
        reports = sorted(self.held, key=lambda r: (r.sent_at, r.unit))
        return [
            Incoming(
                platform="sim",
                chat_id=GROUP,
                chat_type="group",
                user_id=officer_key(r.unit),
                user_name=officer_key(r.unit),
                text=message_text(self.catalogue, r),
                sent_at=r.sent_at,
                message_id=str(n),
                update_key=f"ingest-{n}",
            )
            for n, r in enumerate(reports, start=1)
        ]


def leader_message(text: str, at: datetime) -> Incoming:
    return Incoming("sim", GROUP, "group", LEADER, LEADER, text, at, "0")


def during(period: Period, catalogue: Catalogue) -> datetime:
    """Saturday before the period's due date: "this week" is `period`."""
    return catalogue.calendar.due_at(period) - timedelta(days=2)


@dataclass
class BenchContext:
    workdir: Path
    repeats: int = 5
    units: int = 3321
    weeks: int = 52
    province_units: int = 100
    ingest_batch: int = 400
    seed: int = 0
    postgres_url: str = field(
        default_factory=lambda: os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL)
    )
    log: Callable[[str], None] = print
    cache: dict[str, Any] = field(default_factory=dict)
    _datasets: dict[str, Dataset] = field(default_factory=dict)

    async def national(self) -> Dataset:
        return await self._dataset("national", self.units, provinces=34)

    async def province(self) -> Dataset:
        return await self._dataset("province", self.province_units, provinces=1)

    async def _dataset(self, name: str, units: int, provinces: int) -> Dataset:
        if name not in self._datasets:
            self.log(f"  generating {name}: {units} units, {self.weeks} weeks …")
            path = self.workdir / f"{name}.toml"
            catalogue = write_config(
                BASE_CONFIG, path, units, self.seed, "Asia/Ho_Chi_Minh", provinces
            )
            weeks = series(catalogue, self.weeks + 1, LAST.next(), self.seed)
            everything = submissions(catalogue, weeks)
            stored = everything[:-1]
            url = f"sqlite:///{self.workdir / f'{name}.db'}"
            db = await Database.open(url)
            try:
                await store(db, stored)
            finally:
                await db.close()
            self._datasets[name] = Dataset(name, catalogue, url, stored, weeks[-1], everything[-1])
            # The harness keeps the data set it generated (167,000 submissions nationally): not
            # the bot's memory, but every garbage collection the measured code triggers would
            # walk it, and the digest's figure would time the harness's heap as well (see
            # digest_national_ms under "Goals missed" in docs/PERFORMANCE.md). Moved out of the
            # collector's sight, as a server freezes what it loaded at start-up.
            gc.collect()
            gc.freeze()
        return self._datasets[name]


@asynccontextmanager
async def postgres_scratch_database(ctx: BenchContext, name: str) -> AsyncIterator[str]:
    """The URL of a new, empty database `name` on the bench's PostgreSQL server, dropped
    afterwards: the bot (or `Database.open`) uses it with its production settings."""
    url = make_url(normalize_url(ctx.postgres_url))
    admin = create_async_engine(url, connect_args={"timeout": 5}, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        async with admin.connect() as con:
            await con.execute(drop)
            await con.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(drivername="postgresql", database=name).render_as_string(
                hide_password=False
            )
        finally:
            async with admin.connect() as con:
                await con.execute(drop)
    finally:
        await admin.dispose()
