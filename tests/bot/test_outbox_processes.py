"""The outbox with real processes (issue 17): three `python -m bot run` workers (webhook mode,
so all run, each with its Procrastinate worker) on one PostgreSQL database against the fake
Bot API, leases of 3 s. In the middle of the digest (its first message made, the next held
by Telegram's flood control) the worker draining the group and the scheduler's leader are
killed (SIGKILL): the survivor takes the lead, the minute's sweep ends the dead worker's
drain, every row of the digest ends made and each message reached the fake exactly once."""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime, timedelta
from pathlib import Path

from storage import Database
from testing.fake_telegram import FakeBotApi, flood
from tests.bot.processes import digest_rows, worker_env
from tests.bot.test_scheduler_processes import (
    GROUP,
    TZ,
    Worker,
    config_with_digest_at,
    database,  # noqa: F401 - the fixture
    start_worker,
)


async def test_the_leader_killed_mid_digest_every_post_reaches_the_fake_once(
    api: FakeBotApi,
    database: str,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    soon = datetime.now(TZ) + timedelta(seconds=40)
    due = soon.replace(second=0, microsecond=0) + timedelta(minutes=1)
    env = worker_env(database, config_with_digest_at(tmp_path, due), api.root)
    leader = await start_worker("leader", env, tmp_path)
    others: list[Worker] = []
    drainer = leader
    db = await Database.open(database)
    try:
        await leader.wait_for("scheduler: this process runs the jobs")
        await leader.wait_for("bot running")
        for name in ("second", "third"):
            others.append(await start_worker(name, env, tmp_path))
        for worker in others:
            await worker.wait_for("bot running")
        assert datetime.now(TZ) < due, "too slow to start: the digest came first"

        api.rate_limit = 1  # one send a second: the digest's posts leave one by one
        await api.wait_for(
            lambda a: any(t.startswith("📊 TỔNG HỢP") for t in a.texts(GROUP)), within=150
        )
        # Mid-digest, between two posts: Telegram's flood control holds the next one (429,
        # not sent) while the first is recorded; then the worker draining the group dies,
        # and the leader too. (A kill between a send and its record would make that one
        # post twice, by design: never a loss.)
        api.refuse(GROUP, flood(3))
        for _ in range(300):
            if (await digest_rows(db))[2] >= len(api.texts(GROUP)):
                break
            await asyncio.sleep(0.1)
        assert (await digest_rows(db))[2] == len(api.texts(GROUP)) == 1  # the head, recorded
        workers = [leader, *others]
        [drainer] = [w for w in workers if w.said("Starting job deliver")]
        for worker in {drainer, leader}:
            worker.process.send_signal(signal.SIGKILL)
            await worker.process.wait()
        api.allow(GROUP)
        api.rate_limit = None
        # Another worker takes the lead; the digest's rows are drained to the end, by
        # whichever worker (a dead worker's drain is ended by the minute's sweep).
        async with asyncio.timeout(180):
            while True:
                total, still_due, made = await digest_rows(db)
                if total and not still_due:
                    break
                await asyncio.sleep(1)
        assert made == total >= 2  # the head, and the posts after the kill
        await asyncio.sleep(2)  # nothing more comes
    finally:
        await db.close()
        await leader.stop()
        for worker in others:
            await worker.stop()
    texts = api.texts(GROUP)
    assert len([t for t in texts if t.startswith("📊 TỔNG HỢP")]) == 1
    assert len(texts) == len(set(texts))  # every message once
    photos = [c.files.get("photo", b"") for c in api.sent("sendPhoto")]
    assert len(photos) == len(set(photos))  # every chart once
    survivors = [w for w in (leader, *others) if w not in (drainer, leader)]
    assert not any("Traceback" in line for w in survivors for line in w.lines)
