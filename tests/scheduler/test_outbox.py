"""The outbox (issue 17): posts enqueued in the transaction that checks the scheduler's lease,
once per (job, recipient, platform); drained per chat in order, a refused chat backing off
while other chats go on; given up with one admin notice; photos sent from their stored bytes
by another process; the backlog in /healthz; and, on PostgreSQL, drained by Procrastinate.
Real SQLite and PostgreSQL (`db` fixture)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.web import WebServer
from core.catalogue import Catalogue
from core.chat import Photo, Recipient, Reply, reply
from core.schedule import JobKind
from handlers.maintenance import Pruned, prune
from handlers.notify import DeliveryFailed, Outgoing
from handlers.outbox import DRAINS, OutboxRunner, backoff, enqueue, new_posts
from scheduler.jobs import attempt_job, planned
from storage import Database
from storage.lease import SCHEDULER, Lease, LostLead
from tests.scheduler.simulated import at
from tests.scheduler.test_scheduler_service import Capture
from tests.storage.test_storage_lease import expire_now

NOW = at(2024, 11, 18, 9, 0)
GIVE_UP = NOW + timedelta(minutes=30)


def person(n: int) -> Recipient:
    return Recipient(f"person_{n}", f"Người {n}", (("sim", str(n)),), group=False)


def group(key: str) -> Recipient:
    return Recipient(key, key.upper(), (("sim", key),), group=True)


class Platform(Capture):
    """Keeps what it took; refuses whoever is in `refusing`; holds whoever is in `held`
    until `gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.refusing: set[str] = set()
        self.tries: list[str] = []
        self.held: set[str] = set()
        self.gate = asyncio.Event()
        self.photos: list[bytes] = []

    async def post(self, to: Recipient, message: Reply) -> bool:
        self.tries.append(to.key)
        if to.key in self.held:
            await self.gate.wait()
        if to.key in self.refusing:
            raise DeliveryFailed("Forbidden: bot was kicked", reason="bot was kicked")
        self.photos += [b.path.read_bytes() for b in message.blocks if isinstance(b, Photo)]
        return await super().post(to, message)

    def to(self, key: str) -> list[str]:
        return [t for k, t in self.posts if k == key]


async def put(
    db: Database,
    job_id: str,
    posts: Sequence[Outgoing],
    platforms: Sequence[str] = ("sim",),
    notice: bool = True,
    give_up: datetime = GIVE_UP,
) -> list[str]:
    rows = new_posts(
        job_id,
        "2024-W47",
        posts,
        platforms,
        give_up,
        {"kind": "digest", "label": "tuần 47/2024", "at": NOW.isoformat()} if notice else None,
    )
    async with db.unit_of_work() as uow:
        chats = await enqueue(uow, rows, NOW)
        await uow.commit()
    return chats


async def rows(db: Database, where: str = "1 = 1") -> list[tuple[str, str, str]]:
    async with db.engine.connect() as connection:
        result = await connection.execute(
            text(f"SELECT job_id, record_key, state FROM outbox WHERE {where} ORDER BY id")
        )
        return [tuple(r) for r in result]  # type: ignore[misc]


async def test_a_stale_leader_enqueues_nothing(db: Database, catalogue: Catalogue) -> None:
    stale = Lease(db, SCHEDULER, ttl=30)
    assert await stale.acquire()
    await expire_now(db, SCHEDULER)
    successor = Lease(db, SCHEDULER, ttl=30)
    assert await successor.acquire()  # took over, with the next token
    assert stale.fresh()  # by its own clock the stale leader still leads
    [job] = [
        j for j in planned(catalogue, NOW - timedelta(hours=2), NOW) if j.kind is JobKind.EARLY
    ]
    platform = Platform()
    with pytest.raises(LostLead):
        await attempt_job(catalogue, db, [platform], job, job.at, guard=stale.check_in)
    assert await rows(db) == []
    assert platform.tries == []
    # The successor's run enqueues and sends them.
    delivered = await attempt_job(catalogue, db, [platform], job, job.at, guard=successor.check_in)
    assert delivered.made == len(platform.posts) > 0
    assert {state for _, _, state in await rows(db)} == {"made"}
    await stale.close()
    await successor.close()


async def test_a_post_enqueued_twice_is_one_row_and_sent_once(
    db: Database, catalogue: Catalogue
) -> None:
    posts = [Outgoing(group("nhom"), reply("📢 một")), Outgoing(person(1), reply("riêng"))]
    await put(db, "job", posts)
    await put(db, "job", posts)  # a second leader, a restart's catch-up
    assert await rows(db) == [("job", "chat:nhom", "due"), ("job", "user:person_1", "due")]
    platform = Platform()
    runner = OutboxRunner(catalogue, db, [platform])
    assert (await runner.drain_due(NOW)).made == 2
    await put(db, "job", posts)  # made: not enqueued again
    assert (await runner.drain_due(NOW)).made == 0
    assert platform.posts == [("nhom", "📢 một"), ("person_1", "riêng")]
    async with db.unit_of_work() as uow:
        assert await uow.posts.made("job") == {("chat:nhom", "sim"), ("user:person_1", "sim")}


async def test_maintenance_prunes_rows_done_a_week_ago_never_rows_to_send(
    db: Database, catalogue: Catalogue
) -> None:
    await put(db, "job", [Outgoing(group("nhom"), reply("x")), Outgoing(person(1), reply("y"))])
    platform = Platform()
    platform.refusing.add("person_1")
    await OutboxRunner(catalogue, db, [platform]).drain_due(NOW)
    assert await prune(catalogue, db, NOW + timedelta(days=6)) == Pruned(0, 0, 0, 0)
    assert (await prune(catalogue, db, NOW + timedelta(days=8))).outbox == 1
    assert await rows(db) == [("job", "user:person_1", "due")]
    await put(db, "job", [Outgoing(group("nhom"), reply("x"))])  # made: not enqueued again
    assert await rows(db) == [("job", "user:person_1", "due")]


async def test_order_per_chat_is_kept_when_a_post_is_refused_and_retried(
    db: Database, catalogue: Catalogue
) -> None:
    nhom = group("nhom")
    await put(db, "job1", [Outgoing(nhom, reply(f"#{n}"), part=n) for n in range(3)])
    await put(db, "job2", [Outgoing(nhom, reply("#3"))])
    platform = Platform()
    platform.refusing.add("nhom")
    runner = OutboxRunner(catalogue, db, [platform])
    assert (await runner.drain_due(NOW)).made == 0
    assert platform.tries == ["nhom"]  # the first refused: the rest wait behind it
    async with db.unit_of_work() as uow:
        assert await uow.outbox.waiting() == {"sim:chat:nhom": NOW + backoff(1)}
    assert (await runner.drain_due(NOW + backoff(1) - timedelta(seconds=1))).made == 0
    assert platform.tries == ["nhom"]  # backing off
    platform.refusing.clear()
    assert (await runner.drain_due(NOW + backoff(1))).made == 4
    assert platform.to("nhom") == ["#0", "#1", "#2", "#3"]


async def test_a_refusing_or_slow_chat_does_not_delay_another(
    db: Database, catalogue: Catalogue
) -> None:
    stuck, slow, fine = group("stuck"), group("slow"), group("fine")
    await put(db, "job", [Outgoing(stuck, reply("s"), part=0), Outgoing(slow, reply("l"), part=1)])
    await put(db, "job", [Outgoing(fine, reply(f"f{n}"), part=n + 2) for n in range(5)])
    platform = Platform()
    platform.refusing.add("stuck")
    platform.held.add("slow")
    runner = OutboxRunner(catalogue, db, [platform], concurrent=True)
    draining = asyncio.create_task(runner.drain_due(NOW))
    for _ in range(400):
        if len(platform.to("fine")) == 5:
            break
        await asyncio.sleep(0.01)
    # Every post to the third chat went while one chat refused and another hung.
    assert platform.to("fine") == [f"f{n}" for n in range(5)]
    assert platform.to("slow") == []
    assert platform.to("stuck") == []
    platform.gate.set()
    delivered = await draining
    assert delivered.made == 6
    assert platform.to("slow") == ["l"]
    assert [f.post.to.key for f in delivered.failed] == ["stuck"]


async def test_given_up_at_the_end_of_the_window_with_one_admin_notice(
    db: Database, catalogue: Catalogue
) -> None:
    await put(db, "digest:x", [Outgoing(group("nhom_bao_cao"), reply("📊 TỔNG HỢP"))])
    admins = [p for p in catalogue.people if p.role.value == "admin"]
    platform = Platform()
    platform.refusing.add("nhom_bao_cao")
    runner = OutboxRunner(catalogue, db, [platform])
    now, tries = NOW, 0
    while True:
        await runner.drain_due(now)
        tries += 1
        async with db.unit_of_work() as uow:
            waiting = await uow.outbox.waiting()
        if "sim:chat:nhom_bao_cao" not in waiting:
            break
        now = waiting["sim:chat:nhom_bao_cao"]
        assert now <= GIVE_UP
    assert tries == 8  # at 0, 1, 3, 7, 12, 17, 22, 27 minutes; the next (32) is past 30
    assert ("digest:x", "chat:nhom_bao_cao", "failed") in await rows(db)
    notices = [t for k, t in platform.posts if k in {a.key for a in admins}]
    assert len(notices) == len(admins) >= 1
    assert "⚠️ Bot KHÔNG gửi được bản tổng hợp tuần tuần 47/2024" in notices[0]
    assert "• NHOM_BAO_CAO (sim): bot was kicked" in notices[0]
    # Later drains (another worker, a restart) tell nobody again.
    await runner.drain_due(now + timedelta(hours=1))
    await put(db, "digest:x", [Outgoing(group("nhom_bao_cao"), reply("📊 TỔNG HỢP"))])
    await runner.drain_due(now + timedelta(hours=2))
    assert len([k for k, _ in platform.posts if k in {a.key for a in admins}]) == len(admins)


async def test_a_chart_is_sent_from_its_bytes_by_another_process(
    database_url: str, db: Database, catalogue: Catalogue, tmp_path: Path
) -> None:
    chart = tmp_path / "bieudo.png"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    chart.write_bytes(png)
    message = Reply((Photo(chart, "Bảng xếp hạng"),))
    await put(db, "digest:y", [Outgoing(group("nhom"), message)])
    chart.unlink()  # the enqueuing process's file is gone (released, or another host)
    other = db if database_url.startswith("sqlite") else await Database.open(database_url)
    try:
        platform = Platform()
        assert (await OutboxRunner(catalogue, other, [platform]).drain_due(NOW)).made == 1
    finally:
        if other is not db:
            await other.close()
    assert platform.photos == [png]
    assert platform.to("nhom") == ["Bảng xếp hạng"]


async def test_healthz_answers_503_while_posts_are_overdue(
    db: Database, catalogue: Catalogue
) -> None:
    await put(db, "job", [Outgoing(group("nhom"), reply("x"))])  # due at NOW
    platform = Platform()
    clock = {"now": NOW + timedelta(minutes=2)}
    runner = OutboxRunner(catalogue, db, [platform], clock=lambda: clock["now"])
    web = WebServer(
        port=0, health=db.check, backlog=functools.partial(runner.backlog, timedelta(minutes=5))
    )
    port = await web.start()
    try:
        async with httpx.AsyncClient() as client:
            healthy = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert (healthy.status_code, healthy.json()) == (200, {"status": "ok", "due": 1})
            clock["now"] = NOW + timedelta(minutes=6)
            stuck = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert stuck.status_code == 503
            assert stuck.json()["stale"] == 1
            assert stuck.json()["reason"] == "1 outbox post(s) due for too long"
            await runner.drain_due()
            drained = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert (drained.status_code, drained.json()) == (200, {"status": "ok", "due": 0})
    finally:
        await web.stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_procrastinate_workers_drain_each_chat_once_in_order(
    database_url: str, db: Database, catalogue: Catalogue
) -> None:
    from bot.queue_worker import QueueWorker

    chats = [group(f"nhom{n}") for n in range(3)]
    posts = [Outgoing(c, reply(f"{c.key}#{p}"), part=p) for p in range(4) for c in chats]
    platform = Platform()  # what reached the platform, from both workers
    workers = []
    for _ in range(2):  # two processes' workers on one database
        runner = OutboxRunner(catalogue, db, [platform], concurrent=True)
        worker = QueueWorker(database_url, runner, concurrency=4)
        await worker.start()
        workers.append(worker)
    try:
        woken = await put(db, "job", posts, give_up=datetime.now(NOW.tzinfo) + timedelta(hours=1))
        assert len(woken) == 3
        await workers[0].outbox.wake(woken)  # deferred to Procrastinate, not drained here
        for _ in range(600):
            if len(platform.posts) >= len(posts):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # nothing more comes
        for c in chats:  # each once, in order, whichever worker drained the chat
            assert platform.to(c.key) == [f"{c.key}#{p}" for p in range(4)]
        assert len(platform.posts) == len(posts)
        assert {state for _, _, state in await rows(db)} == {"made"}
    finally:
        for worker in workers:
            await worker.stop()


class Busy(Platform):
    """Takes its time over each post and notes how many are in its hands at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_hand = 0
        self.most = 0

    async def post(self, to: Recipient, message: Reply) -> bool:
        self.in_hand += 1
        self.most = max(self.most, self.in_hand)
        try:
            await asyncio.sleep(0.005)
            return await super().post(to, message)
        finally:
            self.in_hand -= 1


async def test_a_broadcast_drains_a_few_chats_at_a_time(db: Database, catalogue: Catalogue) -> None:
    """A reminder to 200 officers: every one sent once, never more than DRAINS chats' drains
    at once (a thousand at once waited for the database together: on SQLite some gave up
    after the writer gate's 5 s, bench broadcast_rate)."""
    officers = [
        Recipient(f"cb{n}", f"CB {n}", (("sim", f"u{n}"),), group=False) for n in range(200)
    ]
    platform = Busy()
    woken = await put(db, "job", [Outgoing(o, reply("Nhắc")) for o in officers])
    runner = OutboxRunner(catalogue, db, [platform], concurrent=True)
    result = await runner.wake(woken, NOW)
    assert result.made == 200
    assert sorted(k for k, _ in platform.posts) == sorted(o.key for o in officers)
    assert 1 < platform.most <= DRAINS
