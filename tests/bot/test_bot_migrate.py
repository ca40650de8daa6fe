"""`python -m bot migrate`, and several processes migrating one empty database at once."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import Database
from storage.db import head_revision
from tests.scratch_pg import drop_postgres_database, fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database nobody has migrated yet (PostgreSQL: a new database of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    url = await fresh_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


def _open_at_once(url: str, barrier: BarrierType) -> None:
    """In a process of its own: wait for the others, then open (and so migrate) `url`."""

    async def open_and_close() -> None:
        barrier.wait()
        db = await Database.open(url)
        await db.close()

    asyncio.run(open_and_close())


async def test_three_processes_migrate_one_empty_database_at_once(empty_url: str) -> None:
    """Three workers starting together used to leave two dead on a duplicate-key error
    (issue 17): now one migrates under a lock and the others find the schema current. The
    processes are held at a barrier so that they reach the database together."""
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(3)
    processes = [spawn.Process(target=_open_at_once, args=(empty_url, barrier)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    assert await _revisions(empty_url) == [head_revision()]


def test_python_m_bot_migrate(empty_url: str, tmp_path: Path) -> None:
    """The deployment step: exits 0 with one line naming the schema's revision."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--db", empty_url],
        cwd=tmp_path,  # no .env there
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({head_revision()})."
    assert asyncio.run(_revisions(empty_url)) == [head_revision()]


async def _revisions(url: str) -> list[str]:
    db = await Database.open(url)
    try:
        async with db.engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return list(rows.scalars())
    finally:
        await db.close()


def test_migrate_refuses_a_bad_url_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--db", "mysql://x/y"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Lỗi khởi động: DATABASE_URL không hợp lệ")
    assert "Traceback" not in done.stderr
