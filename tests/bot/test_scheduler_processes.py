"""One fenced scheduler with real processes (issue 17): two `python -m bot run` workers
(webhook mode, so both run) on one PostgreSQL database against the fake Bot API, leases of
3 s renewed every second. The leader is frozen (SIGSTOP) past its lease's TTL just before a
digest is due: the other takes over and posts it; the leader, woken up (SIGCONT) with the
digest overdue in its own APScheduler, steps down and posts nothing. Each message of the
digest reaches the fake Bot API exactly once."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from testing.fake_telegram import FakeBotApi
from tests.bot.processes import Worker, digest_drained, start_worker, with_digest_at, worker_env
from tests.conftest import CONFIG_PATH
from tests.scratch_pg import drop_postgres_database, fresh_postgres_database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
GROUP = -1001234567890


def config_with_digest_at(tmp_path: Path, at: datetime) -> Path:
    text = CONFIG_PATH.read_text("utf-8").replace(
        "# telegram = -1001234567890", f"telegram = {GROUP}"
    )
    path = tmp_path / "config.toml"
    path.write_text(with_digest_at(text, at), "utf-8")
    return path


@pytest.fixture
async def database() -> AsyncIterator[str]:
    url = await fresh_postgres_database()
    yield url
    await drop_postgres_database(url)


async def test_a_frozen_leader_is_replaced_and_the_digest_goes_once(
    api: FakeBotApi, database: str, tmp_path: Path
) -> None:
    # The digest at the next whole minute at least 30 s away: time for both to start.
    soon = datetime.now(TZ) + timedelta(seconds=30)
    due = soon.replace(second=0, microsecond=0) + timedelta(minutes=1)
    # Webhook mode: several workers receive behind a balancer (none is sent here).
    env = worker_env(database, config_with_digest_at(tmp_path, due), api.root)
    leader = await start_worker("leader", env, tmp_path)
    follower: Worker | None = None
    try:
        await leader.wait_for("scheduler: this process runs the jobs")
        await leader.wait_for("bot running")
        follower = await start_worker("follower", env, tmp_path)
        await follower.wait_for("bot running")
        assert not follower.said("scheduler: this process runs the jobs")
        assert datetime.now(TZ) < due, "too slow to start: the digest came first"

        leader.process.send_signal(signal.SIGSTOP)  # frozen, its TCP connections open
        await follower.wait_for("scheduler: this process runs the jobs", within=30)
        await api.wait_for(
            lambda a: any(t.startswith("📊 TỔNG HỢP") for t in a.texts(GROUP)), within=120
        )
        await digest_drained(database)  # the whole digest, charts too, out of the outbox

        leader.process.send_signal(signal.SIGCONT)  # wakes up with the digest overdue
        await leader.wait_for("scheduler: lost the lead", within=30)
    finally:
        await leader.stop()
        if follower is not None:
            await follower.stop()
    texts = api.texts(GROUP)
    assert len([t for t in texts if t.startswith("📊 TỔNG HỢP")]) == 1
    assert len(texts) == len(set(texts))  # every message once
    photos = [c.files.get("photo", b"") for c in api.sent("sendPhoto")]
    assert len(photos) == len(set(photos))
    assert not any("Traceback" in line for line in leader.lines + follower.lines)
