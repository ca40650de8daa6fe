"""The inbox (issue 17): a webhook's update is stored before the webhook is answered, stored
once however often the platform delivers it, and handled once, in order per chat, by
whichever worker gets to it. On SQLite and PostgreSQL; Procrastinate's workers on PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import httpx
import pytest
from sqlalchemy import select
from zalo_fake import GROUP_ID, OFFICER_ID, BotFactory, FakeZalo, dumps, serve, update

from bot.web import WebServer
from bot.zalo.bot import SECRET_HEADER, WEBHOOK_PATH, zalo_routes
from core.catalogue import Catalogue
from handlers.inbox import ATTEMPTS, INBOX_KEPT, InboxRunner
from handlers.maintenance import prune
from storage import Database
from storage.models import InboxRow
from testing.fake_telegram import FakeBotApi, text_update
from tests.bot.test_telegram import (
    GROUP,
    LAN,
    REPORT,
    Harness,
    post_update,
    start_bot,
    telegram_catalogue,
)
from tests.scratch_pg import drop_postgres_database, fresh_postgres_database

SECRET = "s3cr3t-Value"  # the one `post_update` sends
_update_ids = itertools.count(70_000)


def lan_says(text: str) -> dict[str, Any]:
    """An update of Lan's message in the group, as Telegram posts it to the webhook."""
    return {"update_id": next(_update_ids), **text_update(GROUP, LAN, text, name="Lan")}


@asynccontextmanager
async def webhook_bot(api: FakeBotApi, db: Database, inbox: InboxRunner) -> AsyncIterator[Harness]:
    """A Telegram bot in webhook mode whose updates go through `inbox`, as `bot run` has it."""
    bot = await start_bot(
        api, db, webhook_url="https://bot.example.vn/telegram/webhook", webhook_secret=SECRET
    )
    bot.inbox = inbox
    inbox.handlers["telegram"] = bot.handle_stored
    web = WebServer(port=0, inbox=functools.partial(inbox.backlog, timedelta(minutes=5)))
    web.add_routes(bot.web_routes())
    await web.start()
    try:
        yield Harness(api, bot, db, web)
    finally:
        await web.stop()
        await inbox.stop()
        await bot.stop()


async def inbox_rows(db: Database) -> list[tuple[str, str, str, bool]]:
    """(platform, chat, update key, handled) of every stored update, in id order."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(
                InboxRow.platform, InboxRow.chat, InboxRow.update_key, InboxRow.handled_at
            ).order_by(InboxRow.id)
        )
        return [(p, c, k, h is not None) for p, c, k, h in rows]


async def test_a_telegram_update_is_stored_before_the_answer_and_handled_once(
    api: FakeBotApi, db: Database
) -> None:
    inbox = InboxRunner(db)
    async with webhook_bot(api, db, inbox) as harness:
        body = lan_says(f"/baocao\n{REPORT}")
        assert await post_update(harness, body) == 200
        # By the 200 the update is in the database: a worker dying now loses nothing.
        [(platform, chat, key, _)] = await inbox_rows(db)
        assert (platform, chat, key) == ("telegram", f"telegram:{GROUP}", str(body["update_id"]))
        await harness.said(GROUP, "Đã nhận báo cáo")
        # Telegram delivers it again (its answer timed out on its side): stored once,
        # handled once.
        assert await post_update(harness, body) == 200
        await inbox.stop()  # the drains woken by the second delivery have finished
        assert [r[2:] for r in await inbox_rows(db)] == [(key, True)]
        assert len(await harness.said(GROUP, "Đã nhận báo cáo")) == 1
        [stored] = await harness.reports("binh_long")
        assert stored.values["citizen_id_issued"] == 6352
        assert await inbox.backlog(timedelta(minutes=5)) == (0, 0)


async def test_updates_of_one_chat_are_handled_in_the_order_they_were_stored(
    api: FakeBotApi, db: Database
) -> None:
    """Five corrections of one unit posted at once: the stored figure is the last one
    sent, and the answers come in the same order."""
    inbox = InboxRunner(db)
    async with webhook_bot(api, db, inbox) as harness:
        # The first answer is slow: an update handled before the one ahead would show.
        api.answer_late("sendMessage", 0.5)
        bodies = [lan_says(f"/baocao\n{REPORT.replace('6.352', str(6352 + n))}") for n in range(5)]
        statuses = []
        for body in bodies:  # each stored before the next is sent, as Telegram does
            statuses.append(await post_update(harness, body))
        assert statuses == [200] * 5
        await harness.said(GROUP, "Xã Bình Long", count=5)
        versions = await harness.reports("binh_long")
        assert [v.values["citizen_id_issued"] for v in versions] == [6352 + n for n in range(5)]
        answers = [t for t in api.texts(GROUP) if "Xã Bình Long" in t]
        assert len(answers) == 5
        for n, answer in enumerate(answers):  # each names its own figure, none a later one
            assert _dotted(6352 + n) in answer, answer
            assert not any(_dotted(6352 + m) in answer for m in range(n + 1, 5)), answer


def _dotted(number: int) -> str:
    return f"{number:,}".replace(",", ".")


async def test_an_update_left_by_a_dead_worker_is_handled_by_the_next_look(
    api: FakeBotApi, db: Database
) -> None:
    """Stored, then the worker died before handling it (no wake-up): the next look for
    waiting updates (at start, then every few seconds or every minute) handles it once."""
    body = lan_says(f"/baocao\n{REPORT}")
    now = datetime.now(UTC)
    async with db.unit_of_work() as uow:
        await uow.inbox.add("telegram", f"telegram:{GROUP}", str(body["update_id"]), body, now)
        await uow.commit()
    inbox = InboxRunner(db)
    async with webhook_bot(api, db, inbox) as harness:
        assert await inbox.backlog(timedelta(minutes=5)) == (1, 0)
        await inbox.wake_waiting()
        await harness.said(GROUP, "Đã nhận báo cáo")
        await inbox.wake_waiting()
        await inbox.stop()
        assert len(await harness.said(GROUP, "Đã nhận báo cáo")) == 1
        assert [r[3] for r in await inbox_rows(db)] == [True]


async def test_a_report_stored_by_a_worker_that_died_before_answering_is_answered_by_the_next(
    api: FakeBotApi, db: Database
) -> None:
    """The report's transaction committed (with its answer kept), then the worker died
    before sending the answer: the next look handles the update again, stores nothing more,
    and sends the kept answer. (Before answers were kept, the officer heard nothing.)"""
    inbox = InboxRunner(db)
    async with webhook_bot(api, db, inbox) as harness:
        dying = asyncio.Event()

        async def die(*args: Any, **kwargs: Any) -> None:
            dying.set()
            await asyncio.Event().wait()  # the process is gone: nothing more happens here

        harness.bot.deliver = die  # type: ignore[method-assign]
        assert await post_update(harness, lan_says(f"/baocao\n{REPORT}")) == 200
        await asyncio.wait_for(dying.wait(), 30)
        for task in list(inbox._tasks):
            task.cancel()
        await inbox.stop()
        assert [r[3] for r in await inbox_rows(db)] == [False]
        assert len(await harness.reports("binh_long")) == 1  # committed before the death
        assert not api.texts(GROUP)
        # The next worker (its own bot, its own inbox runner) looks at its start.
        following = InboxRunner(db)
        other = await start_bot(
            api, db, webhook_url="https://bot.example.vn/telegram/webhook", webhook_secret=SECRET
        )
        try:
            following.handlers["telegram"] = other.handle_stored
            await following.wake_waiting()
            await following.stop()
        finally:
            await other.stop()
        [answer] = await harness.said(GROUP, "Đã nhận báo cáo")
        assert _dotted(6352) in answer
        assert [r[3] for r in await inbox_rows(db)] == [True]
        assert len(await harness.reports("binh_long")) == 1


async def test_an_update_whose_handling_never_ends_is_set_aside_after_three_tries(
    db: Database,
) -> None:
    """A worker that dies while handling an update (here: its drain cancelled in the middle,
    as a kill leaves it) begins it again next time; after the third such try the update is
    set aside and the chat's next one is handled: one update that kills its worker does not
    hold the chat for ever."""
    inbox = InboxRunner(db)
    handled: list[int] = []
    never = asyncio.Event()

    async def handle(body: dict[str, Any]) -> None:
        if body["n"] == 0:
            await never.wait()  # the worker dies here
        handled.append(body["n"])

    inbox.handlers["telegram"] = handle
    now = datetime.now(UTC)
    async with db.unit_of_work() as uow:
        for n in range(2):
            await uow.inbox.add("telegram", "telegram:7", f"u{n}", {"n": n}, now)
        await uow.commit()

    async def attempts() -> int:  # the handlings of u0 begun so far
        async with db.engine.connect() as connection:
            return int(
                (
                    await connection.execute(
                        select(InboxRow.attempts).where(InboxRow.update_key == "u0")
                    )
                ).scalar_one()
            )

    for attempt in range(1, ATTEMPTS + 1):
        task = asyncio.create_task(inbox.drain("telegram:7"))
        for _ in range(200):
            if await attempts() == attempt:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert handled == []
    assert await inbox.drain("telegram:7") == 2
    assert handled == [1]
    assert [(r[2], r[3]) for r in await inbox_rows(db)] == [("u0", True), ("u1", True)]


async def test_healthz_counts_waiting_updates_and_fails_when_one_waits_too_long(
    db: Database,
) -> None:
    inbox = InboxRunner(db)  # no handler: what is stored waits
    web = WebServer(
        port=0,
        backlog=lambda: _nothing_due(),
        inbox=functools.partial(inbox.backlog, timedelta(minutes=5)),
    )
    port = await web.start()
    now = datetime.now(UTC)
    try:
        async with httpx.AsyncClient() as client:
            for key, at in (("1", now), ("2", now - timedelta(minutes=6))):
                async with db.unit_of_work() as uow:
                    await uow.inbox.add("telegram", "telegram:1", key, {"update_id": 1}, at)
                    await uow.commit()
                answer = await client.get(f"http://127.0.0.1:{port}/healthz")
                if key == "1":
                    assert (answer.status_code, answer.json()) == (
                        200,
                        {"status": "ok", "due": 0, "updates": 1},
                    )
            assert answer.status_code == 503
            assert answer.json() == {
                "status": "backlog",
                "reason": "1 update(s) waiting for too long",
                "due": 0,
                "updates": 2,
                "late_updates": 1,
            }
    finally:
        await web.stop()


async def _nothing_due() -> tuple[int, int]:
    return 0, 0


async def test_handled_updates_are_pruned_after_two_days(
    db: Database, catalogue: Catalogue
) -> None:
    now = datetime.now(UTC)
    async with db.unit_of_work() as uow:
        for key in ("old", "new", "waiting"):
            await uow.inbox.add("zalo", "zalo:g", key, {}, now - INBOX_KEPT * 2)
        await uow.commit()
    async with db.engine.connect() as connection:
        ids = await connection.execute(select(InboxRow.id).order_by(InboxRow.id))
        [old, new, _] = ids.scalars()
    async with db.unit_of_work() as uow:
        await uow.inbox.handled([old], now - INBOX_KEPT - timedelta(hours=1))
        await uow.inbox.handled([new], now - timedelta(hours=1))
        await uow.commit()
    assert (await prune(catalogue, db, now)).inbox == 1
    assert [(r[2], r[3]) for r in await inbox_rows(db)] == [("new", True), ("waiting", False)]


async def test_a_zalo_update_is_stored_once_before_the_answer(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database
) -> None:
    bot = make_bot()
    inbox = InboxRunner(db)
    bot.inbox = inbox
    inbox.handlers["zalo"] = bot.handle_stored
    fake_zalo.slow("sendMessage", 0.3)
    runner, base = await serve(zalo_routes(bot, SECRET))
    message = update("/trangthai", message_id="w-1")
    # A sticker in a private chat, its message id missing: known by its content.
    sticker = update(None, event="message.sticker.received", chat=OFFICER_ID, group=False)
    del sticker["message"]["message_id"]
    try:
        async with aiohttp.ClientSession() as http:
            for body in (message, message, sticker, sticker):
                async with http.post(
                    base + WEBHOOK_PATH, data=dumps(body), headers={SECRET_HEADER: SECRET}
                ) as response:
                    assert (response.status, await response.json()) == (200, {"ok": True})
                    assert await inbox_rows(db)  # stored by the answer
        await inbox.stop()
    finally:
        await runner.cleanup()
    rows = await inbox_rows(db)
    assert [(p, c, h) for p, c, _, h in rows] == [
        ("zalo", f"zalo:{GROUP_ID}", True),
        ("zalo", f"zalo:{OFFICER_ID}", True),
    ]
    assert rows[0][2] == "w-1"
    # One answer to /trangthai in the group, one to the sticker in private (two chats are
    # handled side by side: the slow group answer does not hold the private one).
    assert sorted(chat for chat, _ in fake_zalo.sent) == sorted([GROUP_ID, OFFICER_ID])


async def test_a_webhook_answers_503_when_the_update_cannot_be_stored(api: FakeBotApi) -> None:
    url = await fresh_postgres_database()
    db = await Database.open(url)
    try:
        inbox = InboxRunner(db)
        async with webhook_bot(api, db, inbox) as harness:
            await drop_postgres_database(url)  # the database is gone
            body = lan_says(f"/baocao\n{REPORT}")
            assert await post_update(harness, body) == 503  # Telegram delivers it again later
            await asyncio.sleep(0.2)
            assert api.texts(GROUP) == []
    finally:
        await db.close()
        await drop_postgres_database(url)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_procrastinate_workers_handle_each_chat_in_order_once(
    database_url: str, db: Database
) -> None:
    """Two processes' inboxes on one database, updates of three chats stored through both
    in turn: every update handled once, each chat's in the order stored, whichever worker
    took it, never two of one chat at once."""
    from bot.queue_worker import QueueWorker
    from handlers.outbox import OutboxRunner

    handled: dict[str, list[int]] = defaultdict(list)
    busy: set[str] = set()
    overlaps: list[str] = []

    async def handle(body: dict[str, Any]) -> None:
        chat = body["chat"]
        if chat in busy:
            overlaps.append(chat)
        busy.add(chat)
        await asyncio.sleep(0.02)  # a reply being sent
        handled[chat].append(body["n"])
        busy.discard(chat)

    workers, inboxes = [], []
    for _ in range(2):
        inbox = InboxRunner(db)
        inbox.handlers["telegram"] = handle
        worker = QueueWorker(database_url, OutboxRunner(telegram_catalogue(), db, []), inbox, 4)
        await worker.start()
        workers.append(worker)
        inboxes.append(inbox)
    try:
        sent = 0
        for n in range(8):
            for chat in ("a", "b", "c"):
                body = {"chat": chat, "n": n}
                await inboxes[sent % 2].receive("telegram", chat, f"{chat}{n}", body)
                sent += 1
        for _ in range(400):
            if sum(len(v) for v in handled.values()) >= 24:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # nothing more comes
        assert dict(handled) == {chat: list(range(8)) for chat in ("a", "b", "c")}
        assert overlaps == []
        assert await inboxes[0].backlog(timedelta(minutes=5)) == (0, 0)
    finally:
        for worker in workers:
            await worker.stop()
