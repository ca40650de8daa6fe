"""Start-up skips alembic when the schema is already at the newest revision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from storage import Database
from storage.db import MIGRATIONS, head_revision, migrate

ROOT = Path(__file__).resolve().parents[2]


def test_head_revision_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


async def test_a_schema_at_head_is_not_upgraded_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("alembic ran on a schema at head")

    monkeypatch.setattr(command, "upgrade", refuse)
    await migrate(db.engine)  # the db fixture's schema is at head already


async def test_an_older_schema_is_upgraded(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
        await connection.exec_driver_sql("DROP INDEX ix_submissions_unit_current")
        await connection.exec_driver_sql("DROP TABLE chat_moves")  # 0005's
        await connection.exec_driver_sql("DROP TABLE unreachable_people")
        await connection.exec_driver_sql("DROP INDEX ix_registrations_created")  # 0006's
        await connection.exec_driver_sql("ALTER TABLE registrations DROP COLUMN username")
        await connection.exec_driver_sql("ALTER TABLE registrations DROP COLUMN request_text")
        await connection.exec_driver_sql("DROP TABLE leases")  # 0007's
        await connection.exec_driver_sql("DROP TABLE media")  # 0008's
        await connection.exec_driver_sql("DROP TABLE form_drafts")
        await connection.exec_driver_sql("DROP TABLE week_approvals")  # 0009's
        await connection.exec_driver_sql("DROP TABLE correction_requests")
        await connection.exec_driver_sql("DROP TABLE pending_imports")  # 0010's
        await connection.exec_driver_sql("DROP TABLE outbox")  # 0011's (Procrastinate's stay)
        await connection.exec_driver_sql("DROP TABLE send_slots")  # 0012's
        await connection.exec_driver_sql("DROP TABLE inbox")  # 0013's
        await connection.exec_driver_sql("ALTER TABLE processed_updates DROP COLUMN replies")
        await connection.exec_driver_sql("DROP TABLE flood_senders")  # 0015's
    await migrate(db.engine)
    async with db.engine.connect() as connection:
        version = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        assert version.scalars().all() == [head_revision()]


def test_opening_a_migrated_database_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    script = (
        "import asyncio, sys\n"
        "from storage import Database\n"
        "async def main(url):\n"
        "    db = await Database.open(url)\n"
        "    await db.close()\n"
        "asyncio.run(main(sys.argv[1]))\n"
        "print('alembic' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, url], cwd=ROOT, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in runs] == ["True", "False"], [r.stderr for r in runs]
