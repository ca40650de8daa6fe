"""`/healthz` answers "ok" only while the database can be used (issue 17)."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.web import WebServer
from storage import Database
from tests.scratch_pg import drop_postgres_database, fresh_postgres_database


async def _health(db: Database) -> tuple[int, str]:
    web = WebServer(port=0, health=db.check)
    port = await web.start()
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/healthz")
        return answer.status_code, answer.text
    finally:
        await web.stop()


async def test_healthz_on_postgresql_fails_with_the_database_gone() -> None:
    url = await fresh_postgres_database()
    db = await Database.open(url)
    try:
        assert await _health(db) == (200, "ok")
        # The server ends this process's connections (a restart, a failover): the pooled one
        # is replaced and the check still passes.
        async with db.engine.connect() as connection:
            await connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        assert await _health(db) == (200, "ok")
        await drop_postgres_database(url)  # WITH (FORCE): the pooled connections die too
        status, reason = await _health(db)
        assert status == 503
        assert reason.startswith("database unreachable (")
    finally:
        await db.close()
        await drop_postgres_database(url)


async def test_healthz_on_sqlite_fails_with_the_file_gone(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    db = await Database.open(f"sqlite:///{path}")
    try:
        assert await _health(db) == (200, "ok")
        path.unlink()  # the open connection would still answer a query
        assert await _health(db) == (503, "database file missing or not readable and writable")
    finally:
        await db.close()


async def test_healthz_without_a_check_is_ok() -> None:
    web = WebServer(port=0)
    port = await web.start()
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert (answer.status_code, answer.text) == (200, "ok")
    finally:
        await web.stop()
