"""Real `python -m bot run` workers for the process tests (test_scheduler_processes.py,
test_three_workers.py): a worker whose log lines are read as they come, and a config whose
digest falls at a chosen minute."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from storage import Database
from testing.fake_telegram import TOKEN

ROOT = Path(__file__).resolve().parents[2]
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Worker:
    """A `python -m bot run` process whose log lines are read as they come."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())
            self._changed.set()

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    async def wait_for(self, text: str, within: float = 60, times: int = 1) -> None:
        async with asyncio.timeout(within):
            while self.count(text) < times:
                if self.process.returncode is not None:
                    raise AssertionError(f"{self.name} exited: {self.lines[-20:]}")
                self._changed.clear()
                with_timeout = asyncio.wait_for(self._changed.wait(), 1)
                await asyncio.gather(with_timeout, return_exceptions=True)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a host that died."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await asyncio.gather(self._reader, return_exceptions=True)


async def start_worker(name: str, env: dict[str, str], cwd: Path) -> Worker:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return Worker(name, process)


WEBHOOK_SECRET = "s3cret-webhook-secret"
# Settings a worker takes from the test, never from the environment the tests run in.
OWN_SETTINGS = ("TELEGRAM_", "ZALO_", "WEB", "PUBLIC_", "DATABASE_", "LEASE_")


def worker_env(database: str, config: Path, telegram_api: str, **more: str) -> dict[str, str]:
    """A webhook-mode `python -m bot run` worker's environment (several may run at once, as
    behind a balancer), leases of 3 s; `more` adds or overrides settings."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database,
        "CONFIG_PATH": str(config),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram_api,
        "WEBHOOK_URL": "https://bot.example.vn/telegram/webhook",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": "0",
        "LEASE_TTL_SECONDS": "3",
        "LEASE_RENEW_SECONDS": "1",
        "LOG_LEVEL": "INFO",
        **more,
    }


def with_week_just_due(config_text: str, now: datetime) -> str:
    """The config's text with its week due an hour before `now` (weekday and time), no
    holidays: a report sent now counts (late) for the week just due, the week the digest
    covers, whatever the day. With the shipped Monday 10:00 and 48 late hours, reports sent
    after the late window's end (Wednesday 10:00) no longer counted for the week the digest
    covers: it had no figures to chart, and the three-worker test found no photo."""
    due = now - timedelta(hours=1)
    calendar = (
        f'due_weekday = "{DAYS[due.weekday()]}"\ndue_time = "{due:%H:%M}"\nholidays = false\n'
    )
    shipped = 'due_weekday = "monday"\ndue_time = "10:00"\n'
    if shipped not in config_text:
        raise ValueError("the config's due weekday and time are not the shipped ones")
    return config_text.replace(shipped, calendar, 1)


def with_digest_at(config_text: str, at: datetime) -> str:
    """The config's text with its [schedule] set to one digest at `at` (to the minute), no
    reminders, and quiet hours far from it."""
    quiet = at + timedelta(hours=12)
    schedule = (
        "[schedule]\n"
        f'digest = ["{DAYS[at.weekday()]} {at:%H:%M}"]\n'
        "early_reminders = []\n"
        "countdown_days = []\n"
        f'quiet_start = "{quiet:%H:%M}"\n'
        f'quiet_end = "{quiet + timedelta(hours=1):%H:%M}"\n'
    )
    return config_text.replace("[schedule]\n", schedule, 1)


async def digest_rows(db: Database) -> tuple[int, int, int]:
    """(rows, rows still due, rows recorded in posts_made) of the digest in the outbox."""
    async with db.engine.connect() as connection:
        total = await connection.scalar(
            text("SELECT count(*) FROM outbox WHERE job_id LIKE 'digest:%'")
        )
        due = await connection.scalar(
            text("SELECT count(*) FROM outbox WHERE job_id LIKE 'digest:%' AND state = 'due'")
        )
        made = await connection.scalar(
            text("SELECT count(*) FROM posts_made WHERE job_id LIKE 'digest:%'")
        )
    return int(total or 0), int(due or 0), int(made or 0)


async def digest_drained(database_url: str, within: float = 150) -> tuple[int, int]:
    """Wait until the digest was enqueued and none of its outbox rows is still due (whichever
    worker drained them); (rows, rows made)."""
    db = await Database.open(database_url)
    try:
        async with asyncio.timeout(within):
            while True:
                total, still_due, made = await digest_rows(db)
                if total and not still_due:
                    return total, made
                await asyncio.sleep(0.5)
    finally:
        await db.close()
