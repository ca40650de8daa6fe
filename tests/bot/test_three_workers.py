"""Three real workers behind a balancer (issue 17, "Shown by"): three `python -m bot run`
processes in webhook mode, Telegram and Zalo, on one scratch PostgreSQL database, leases of
3 s renewed every second. A round-robin balancer stands in front of their web servers: it
gets Telegram's and Zalo's webhook deliveries and Zalo's fetches of chart images, each
request to the next worker (a dead one skipped, as a balancer's health check would).

One set of workers serves every scenario in turn; the digest is due a little after they
start. PostgreSQL only: skipped with the reason without a server (failed under CI=1).

- A report to each worker: all stored once, each answered once.
- One officer's six versions of a report sent back to back through the three workers:
  handled in the order sent (the inbox), the last one is what is stored.
- The step-by-step /baocao form answered across the three workers: the stored report is the
  answers.
- A Zalo chart made by one worker is fetched by Zalo, through the balancer, from another,
  with the PNG's bytes.
- The leader killed (SIGKILL) before the digest is due, then its successor's lease sessions
  terminated (pg_terminate_backend, this database only) again and again while the digest's
  posts are due: every post reaches the fake Telegram and the fake Zalo exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from zalo_fake import PNG, FakeZalo
from zalo_fake import TOKEN as ZALO_TOKEN
from zalo_fake import update as zalo_update

from core.catalogue import Catalogue, build_catalogue
from storage import Database, normalize_url
from testing.fake_telegram import FakeBotApi, button_update, text_update
from tests.bot.processes import WEBHOOK_SECRET as SECRET
from tests.bot.processes import (
    Worker,
    digest_drained,
    start_worker,
    with_digest_at,
    with_week_just_due,
    worker_env,
)
from tests.bot.test_shared_form import questions, stored
from tests.bot.test_telegram import REPORT, answers_for
from tests.conftest import CONFIG_PATH
from tests.scratch_pg import drop_postgres_database, fresh_postgres_database

pytestmark = pytest.mark.asyncio(loop_scope="module")

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
GROUP = -1001234567890
ZALO_GROUP = "grp-binh-son"
ZALO_SECRET = "zalo-webhook-secret"
# Telegram and Zalo ids of the people of the shipped config.
PEOPLE = {
    "thuong_truc": 3001,
    "lanh_dao": 2001,
    "cb_binh_long": 1001,
    "cb_binh_thuan": 1002,
    "cb_chau_o": 1003,
    "cb_binh_thanh": 1004,
    "cb_binh_chau": 1005,
    "cb_binh_phuoc": 1006,  # added to the shipped config below
}
LEADS = "scheduler: this process runs the jobs"
_update_ids = itertools.count(1)


def zalo_id(person: str) -> str:
    return f"zl-{person}"


def config_text(due: datetime) -> str:
    text = CONFIG_PATH.read_text("utf-8").replace(
        '# telegram = -1001234567890\n# zalo = "e3b0c44298fc1c14"',
        f'telegram = {GROUP}\nzalo = "{ZALO_GROUP}"',
    )
    text += (
        '\n[people.cb_binh_phuoc]\nname = "Ngô Văn Phước"\nrole = "officer"\nunit = "binh_phuoc"\n'
    )
    for person, user_id in PEOPLE.items():
        text = text.replace(
            f"[people.{person}]\n",
            f'[people.{person}]\ntelegram = {user_id}\nzalo = "{zalo_id(person)}"\n',
        )
    return with_digest_at(with_week_just_due(text, datetime.now(TZ)), due)


@dataclass
class Forwarded:
    method: str
    path: str
    port: int
    status: int


@dataclass
class Balancer:
    """Round robin over the workers' web servers: every request to the next one; a worker
    that refuses the connection (dead) is skipped for the next."""

    ports: list[int]
    log: list[Forwarded] = field(default_factory=list)
    url: str = ""
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding")
        }
        for _ in range(len(self.ports)):
            port = self.ports[next(self._turn) % len(self.ports)]
            try:
                async with self._session.request(
                    request.method,
                    f"http://127.0.0.1:{port}{request.path_qs}",
                    data=body,
                    headers=headers,
                ) as response:
                    data = await response.read()
                    self.log.append(Forwarded(request.method, request.path, port, response.status))
                    return web.Response(
                        status=response.status,
                        body=data,
                        content_type=response.content_type,
                    )
            except aiohttp.ClientConnectorError:
                continue  # dead: the next worker
        return web.Response(status=502)

    def served(self, path_start: str) -> list[Forwarded]:
        return [f for f in self.log if f.path.startswith(path_start)]


@dataclass
class Cluster:
    api: FakeBotApi
    zalo: FakeZalo
    balancer: Balancer
    workers: list[Worker]
    ports: list[int]
    database_url: str
    due: datetime
    catalogue: Catalogue

    async def telegram(self, body: dict[str, Any]) -> int:
        """One update delivered to the balancer's webhook, as Telegram would."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{self.balancer.url}/telegram/webhook",
                json={"update_id": next(_update_ids), **body},
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as response,
        ):
            return response.status

    async def zalo_message(self, person: str, said: str) -> int:
        body = zalo_update(
            said,
            message_id=f"zm-{next(_update_ids)}",
            user=zalo_id(person),
            chat=zalo_id(person),
            group=False,
            at=datetime.now(TZ),
        )
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{self.balancer.url}/zalo/webhook",
                json=body,
                headers={"X-Bot-Api-Secret-Token": ZALO_SECRET},
            ) as response,
        ):
            return response.status

    def worker_on(self, port: int) -> Worker:
        return self.workers[self.ports.index(port)]

    def leaders(self) -> list[Worker]:
        return [w for w in self.workers if w.alive and w.count(LEADS) > w.count("lost the lead")]


WITHIN = 30.0  # seconds for a stored update to be handled, on two busy cores


async def until(condition: Callable[[], bool], within: float = WITHIN) -> None:
    for _ in range(int(within / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not met within {within:.0f} s")


def _free_ports(n: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    database = await fresh_postgres_database()
    tmp = tmp_path_factory.mktemp("three_workers")
    # The digest at the next whole minute at least 35 s away: time for the three to start
    # and for the scenarios before it (about 25 s on two busy cores).
    soon = datetime.now(TZ) + timedelta(seconds=35)
    due = soon.replace(second=0, microsecond=0) + timedelta(minutes=1)
    config = tmp / "config.toml"
    config.write_text(config_text(due), "utf-8")
    api = FakeBotApi()
    await api.start()
    zalo = FakeZalo()
    zalo.can_join_groups = True
    await zalo.start()
    ports = _free_ports(3)
    balancer = Balancer(ports)
    await balancer.start()
    env = worker_env(
        database,
        config,
        api.root,
        ZALO_BOT_TOKEN=ZALO_TOKEN,
        ZALO_API_BASE_URL=zalo.url,
        ZALO_WEBHOOK_SECRET=ZALO_SECRET,
        PUBLIC_BASE_URL=balancer.url,  # Zalo fetches images through the balancer
    )
    workers: list[Worker] = []
    try:
        for name, port in zip("ABC", ports, strict=True):
            # All three at once on the empty database, as a deployment starts them.
            workers.append(await start_worker(name, {**env, "WEB_PORT": str(port)}, tmp))
        for worker in workers:
            await worker.wait_for("bot running", within=90)
        catalogue = build_catalogue(tomllib.loads(config.read_text("utf-8")))
        yield Cluster(api, zalo, balancer, workers, ports, database, due, catalogue)
    finally:
        for worker in workers:
            await worker.stop()
        await balancer.stop()
        await zalo.close()
        await api.stop()
        await drop_postgres_database(database)


async def _stored_counts(url: str) -> dict[str, int]:
    engine = create_async_engine(normalize_url(url))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT unit, count(*) FROM submissions GROUP BY unit")
            )
            return {unit: count for unit, count in rows.all()}
    finally:
        await engine.dispose()


async def test_a_report_to_each_worker_is_stored_and_answered_once(cluster: Cluster) -> None:
    officers = {"cb_binh_long": "binh_long", "cb_binh_thuan": "binh_thuan", "cb_chau_o": "chau_o"}
    before = len(cluster.balancer.served("/telegram/webhook"))
    for person in officers:
        chat = PEOPLE[person]
        assert await cluster.telegram(text_update(chat, chat, REPORT)) == 200
    reached = {f.port for f in cluster.balancer.served("/telegram/webhook")[before:]}
    assert reached == set(cluster.ports)  # one report to each worker
    # Each was stored in the inbox by the 200; a worker handles it right after.
    await cluster.api.wait_for(
        lambda api: all(api.texts(PEOPLE[p]) for p in officers), within=WITHIN
    )
    await asyncio.sleep(0.5)  # nothing more comes
    counts = await _stored_counts(cluster.database_url)
    assert {unit: counts.get(unit) for unit in officers.values()} == dict.fromkeys(
        officers.values(), 1
    )
    for person in officers:
        replies = cluster.api.texts(PEOPLE[person])
        assert len(replies) == 1, replies
        assert replies[0].startswith("✅ Đã nhận báo cáo")


async def test_one_officer_s_corrections_through_three_workers_are_kept_in_order(
    cluster: Cluster,
) -> None:
    """Six versions of one report sent one after the other (each answered 200 before the
    next, as Telegram delivers a chat's updates), each to the next worker, without waiting
    for the answers: every worker stores what it got in the inbox, and the chat's updates
    are handled one at a time in that order, so the stored figure is the last one sent."""
    officer, before = PEOPLE["cb_binh_phuoc"], len(cluster.api.texts(PEOPLE["cb_binh_phuoc"]))
    served = len(cluster.balancer.served("/telegram/webhook"))
    issued = [8000 + n for n in range(6)]
    for value in issued:
        report = REPORT.replace("6.352", f"{value:,}".replace(",", "."))
        assert await cluster.telegram(text_update(officer, officer, report)) == 200
    ports = {f.port for f in cluster.balancer.served("/telegram/webhook")[served:]}
    assert ports == set(cluster.ports)
    await cluster.api.wait_for(
        lambda api: len(api.texts(officer)) >= before + len(issued), within=WITHIN
    )
    db = await Database.open(cluster.database_url)
    try:
        versions = await stored(db, "binh_phuoc")
    finally:
        await db.close()
    assert [v.values["citizen_id_issued"] for v in versions] == issued
    answers = cluster.api.texts(officer)[before:]
    assert len(answers) == len(issued)
    # The answers in the order sent: each names its own figure.
    assert all(f"{v:,}".replace(",", ".") in a for v, a in zip(issued, answers, strict=True))


async def test_the_form_answered_across_workers_stores_the_answers(cluster: Cluster) -> None:
    api, officer = cluster.api, PEOPLE["cb_binh_chau"]
    codes = [f.code for f in cluster.catalogue.fields if f.required]
    answers = answers_for(cluster.catalogue, 7000)
    before = len(api.texts(GROUP))
    served = len(cluster.balancer.served("/telegram/webhook"))
    assert await cluster.telegram(text_update(GROUP, officer, "/baocao", name="Châu")) == 200
    await api.wait_for(lambda a: questions(a, len(codes)) == [1], within=WITHIN)
    sends = len(api.sent())
    for n, answer in enumerate(answers, start=1):
        body = text_update(GROUP, officer, answer, reply_to_bot=True)
        assert await cluster.telegram(body) == 200
        if n < len(answers):  # the next question, none asked again
            await api.wait_for(lambda a, n=n: len(questions(a, len(codes))) > n, within=WITHIN)
            assert questions(api, len(codes)) == list(range(1, n + 2))
    # The summary with its send button, once the last answer was handled.
    await api.wait_for(
        lambda a: any("form:send" in str(c.params) for c in a.sent()[sends:]), within=WITHIN
    )
    assert await cluster.telegram(button_update(GROUP, officer, "form:send")) == 200
    ports = [f.port for f in cluster.balancer.served("/telegram/webhook")[served:]]
    assert all(a != b for a, b in itertools.pairwise(ports))  # each step to another worker
    await api.wait_for(
        lambda a: any("Đã nhận báo cáo" in t for t in a.texts(GROUP)[before:]), within=WITHIN
    )
    db = await Database.open(cluster.database_url)
    try:
        [report] = await stored(db, "binh_chau")
    finally:
        await db.close()
    assert {c: report.values[c] for c in codes} == {
        c: int(a) for c, a in zip(codes, answers, strict=True)
    }
    assert set(report.values) == set(codes)


async def test_a_zalo_chart_made_by_one_worker_is_fetched_from_another(cluster: Cluster) -> None:
    zalo, balancer = cluster.zalo, cluster.balancer
    assert await cluster.zalo_message("cb_binh_thanh", REPORT) == 200
    await until(
        lambda: any(
            chat == zalo_id("cb_binh_thanh") and said.startswith("✅ Đã nhận báo cáo")
            for chat, said in zalo.sent
        )
    )
    photos, fetches = len(zalo.photos), len(zalo.fetched)
    served = len(balancer.log)
    assert await cluster.zalo_message("lanh_dao", "/bieudo Xác thực ĐDĐT xephang") == 200
    # Handled by whichever worker took the chat's update from the inbox; its photos are
    # sent once Zalo fetched them.
    await until(lambda: len(zalo.photos) > photos and len(zalo.fetched) >= len(zalo.photos))
    await asyncio.sleep(0.5)  # the rest of the chart's photos, if any
    [asked] = [f for f in balancer.log[served:] if f.path == "/zalo/webhook"]
    new_photos = zalo.photos[photos:]
    paths = {url.removeprefix(balancer.url) for _, url, _ in new_photos}
    media = [f for f in balancer.log[served:] if f.path in paths]
    assert new_photos, zalo.sent[-3:]
    assert all(chat == zalo_id("lanh_dao") for chat, _, _ in new_photos)
    assert all(url.startswith(f"{balancer.url}/media/") for _, url, _ in new_photos)
    # Zalo fetched each image through the balancer, from a worker other than the one that
    # drew it and sent its URL, and got the PNG.
    assert len(media) == len(new_photos)
    assert all(f.port != asked.port for f in media)
    for fetched in zalo.fetched[fetches:]:
        assert (fetched.status, fetched.content_type) == (200, "image/png")
        assert fetched.body.startswith(PNG[:8])


def _socket_ports(pid: int) -> set[int]:
    """The local TCP ports of the process's sockets (Linux /proc)."""
    inodes = set()
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            if columns[9] in inodes:
                ports.add(int(columns[1].rsplit(":", 1)[1], 16))
    return ports


async def _cut_lease_sessions(url: str, worker: Worker, stop: asyncio.Event) -> int:
    """Terminate the worker's lease sessions, this database's only, again and again until
    `stop`: what a PostgreSQL restart or a network cut does to it. How many were ended."""
    engine = create_async_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    ended = 0
    try:
        async with engine.connect() as connection:
            while not stop.is_set() and worker.alive:
                rows = await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() "
                        "AND application_name LIKE 'bot lease %' "
                        "AND client_port = ANY(:ports)"
                    ),
                    {"ports": sorted(_socket_ports(worker.pid))},
                )
                ended += sum(1 for (done,) in rows.all() if done)
                await asyncio.sleep(0.02)
    finally:
        await engine.dispose()
    return ended


async def test_the_leader_killed_then_its_successor_cut_off_every_post_goes_once(
    cluster: Cluster,
) -> None:
    api, zalo = cluster.api, cluster.zalo
    assert datetime.now(TZ) < cluster.due, "too slow: the digest came before the kill"
    [leader] = cluster.leaders()
    await leader.kill()  # SIGKILL before the digest is due: its lease is left to expire
    others = [w for w in cluster.workers if w.alive]
    # A worker that led before (and lost the lead, a busy machine's late renewal) has said it
    # already: wait for a new time.
    waits = [
        asyncio.create_task(w.wait_for(LEADS, within=60, times=w.count(LEADS) + 1)) for w in others
    ]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*done, *pending, return_exceptions=True)
    successors = cluster.leaders()
    assert len(successors) == 1, f"no single successor to the killed leader: {successors}"
    [successor] = successors
    assert successor is not leader
    # From a few seconds before the digest is due until it is all out, the successor's lease
    # sessions are ended again and again: it may keep the lead through new sessions, or lose
    # it (fenced) to the third worker, or take it back; whoever posts, each post goes once.
    await asyncio.sleep(max(0.0, (cluster.due - datetime.now(TZ)).total_seconds() - 3))
    stop = asyncio.Event()
    cutting = asyncio.create_task(_cut_lease_sessions(cluster.database_url, successor, stop))
    try:
        drained = asyncio.create_task(digest_drained(cluster.database_url))
        await asyncio.wait([drained, cutting], return_when=asyncio.FIRST_COMPLETED)
        assert not cutting.done(), cutting
        await drained  # every row of the digest made (or given up), by whichever worker
    finally:
        stop.set()
        ended = await cutting
    assert ended > 0  # the successor's lease sessions were indeed cut
    texts = api.texts(GROUP)
    digest = [t for t in texts if t.startswith("📊 TỔNG HỢP")]
    assert len(digest) == 1
    assert len(texts) == len(set(texts))  # every message once
    photos = [c.files.get("photo", b"") for c in api.sent("sendPhoto")]
    assert photos
    assert len(photos) == len(set(photos))
    zalo_texts = [said for chat, said in zalo.sent if chat == ZALO_GROUP]
    assert sum(t.startswith("📊 TỔNG HỢP") for t in zalo_texts) == 1
    assert len(zalo_texts) == len(set(zalo_texts))
    zalo_photos = [(url, caption) for chat, url, caption in zalo.photos if chat == ZALO_GROUP]
    assert len(zalo_photos) == len(photos)  # the same charts, once each
    assert all(f.status == 200 for f in zalo.fetched)
    alive = [w for w in cluster.workers if w.alive]
    print(  # the figure of docs/RELIABILITY.md
        f"three workers: {ended} lease sessions of the successor ended; its renewals failed "
        f"{successor.count('lease renewal failed')} times, lead lost "
        f"{sum(w.count('lost the lead') for w in alive)} times; the digest made by "
        f"{[w.name for w in alive if w.said('post(s) enqueued')]}; {len(texts)} messages and "
        f"{len(photos)} charts on Telegram, {len(zalo_texts)} and {len(zalo_photos)} on Zalo"
    )
    assert not any("Traceback" in line for w in alive for line in w.lines)
