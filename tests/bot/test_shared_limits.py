"""Telegram's flood limits kept by every worker together (issue 17): three Telegram workers on
one PostgreSQL book their sends in shared windows (`storage.send_windows`), measured at the
fake Bot API server, which enforces the limits and answers 429 above them. A group's window
and a group's 429 delay only that group. SQLite keeps the in-memory windows; a database that
cannot book falls back to the process's own windows, logged once.

The group window is shortened to two seconds (five sends) where the test would otherwise wait
a minute; the fake enforces the same shortened window."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import httpx
import pytest

from bot.telegram.bot import TelegramBot, TelegramSettings
from core.chat import Recipient, Reply, SendWindow, Text
from handlers.engine import Engine
from storage import Database
from storage.db import create_engine
from storage.send_windows import SharedSendWindows
from testing.fake_telegram import TOKEN, FakeBotApi, Limits, flood
from tests.bot.test_telegram import GROUP, telegram_catalogue
from tests.scratch_pg import postgres_url

SHORT = Limits(per_second=30, per_group_minute=5, group_window=2.0)
PRIVATE = 700_000  # private chat ids of the test's officers


def group_post() -> Recipient:
    return Recipient("nhom_bao_cao", "Nhóm", (("telegram", str(GROUP)),), group=True)


def private_post(n: int) -> Recipient:
    return Recipient(f"cb_{n}", f"Cán bộ {n}", (("telegram", str(PRIVATE + n)),), group=False)


def message(text: str) -> Reply:
    return Reply((Text.of(text),))


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


async def start_workers(
    api: FakeBotApi, url: str, count: int, limits: Limits, shared: bool = True
) -> tuple[list[TelegramBot], list[Database]]:
    """`count` Telegram workers (webhook mode: none polls) on one database, each with its own
    engine and database handle, as `bot/runtime.py` builds them."""
    bots: list[TelegramBot] = []
    dbs: list[Database] = []
    for _ in range(count):
        db = await Database.open(url)
        dbs.append(db)
        bot = TelegramBot(
            Engine(telegram_catalogue(), db, lambda: datetime.now(UTC)),
            TelegramSettings(
                token=TOKEN,
                api_root=api.root,
                webhook_url="https://bot.example.vn/telegram/webhook",
                webhook_secret="s3cr3t-Value-0123",
                group_per_minute=limits.per_group_minute,
                group_window_s=limits.group_window,
                backoff_s=0.01,
            ),
            windows=db.send_windows() if shared else None,
        )
        await bot.start()
        bots.append(bot)
    return bots, dbs


async def stop_workers(bots: Sequence[TelegramBot], dbs: Sequence[Database]) -> None:
    for bot in bots:
        await bot.stop()
    for db in dbs:
        await db.close()


def most_in_any_window(times: Sequence[float], window: float) -> int:
    """The largest number of `times` within any `window` seconds (as the fake counts)."""
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered[i:] if t - start < window) for i, start in enumerate(ordered)),
        default=0,
    )


# --- the fake keeps Telegram's limits --------------------------------------------------------


async def test_the_fake_answers_429_with_retry_after_above_the_limits(
    fake_api: FakeBotApi,
) -> None:
    now = [100.0]
    fake_api.clock = lambda: now[0]  # the fake's limits on a clock of the test's
    fake_api.enforce_limits()  # Telegram's: 30 a second, 20 a minute to one group
    async with httpx.AsyncClient(base_url=f"{fake_api.root}/bot{TOKEN}") as client:

        async def send(chat_id: int) -> httpx.Response:
            return await client.post("/sendMessage", json={"chat_id": chat_id, "text": "x"})

        answers = [await send(PRIVATE + n) for n in range(31)]
        assert [a.status_code for a in answers] == [200] * 30 + [429]
        assert answers[-1].json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        now[0] += 1.0  # the second has passed
        assert (await send(PRIVATE)).status_code == 200

        now[0] = 200.0
        for _ in range(20):  # 20 to one group in 10 s: within both limits
            assert (await send(GROUP)).status_code == 200
            now[0] += 0.5
        refused = await send(GROUP)  # the 21st within the minute
        assert refused.status_code == 429
        assert refused.json()["parameters"] == {"retry_after": 50}
        assert (await send(PRIVATE + 1)).status_code == 200  # other chats are not held
        now[0] = 260.0  # the group's first send has left the minute
        assert (await send(GROUP)).status_code == 200
    assert len(fake_api.accepted) == 30 + 1 + 20 + 1 + 1
    assert [chat for chat, _ in fake_api.refused_429] == [PRIVATE + 30, GROUP]


# --- three workers on one PostgreSQL ---------------------------------------------------------


async def test_three_workers_on_postgresql_keep_the_limits_together(
    fake_api: FakeBotApi,
) -> None:
    """Three workers each post 5 messages to one group at once (15: three windows' worth)
    and, meanwhile, 25 private messages one after another as the scheduler delivers them
    (75: more than two seconds' worth); the fake refuses nothing and takes them all. With each
    worker keeping its own windows (`windows=None`, as before the change) the same run had
    21 sends refused, 15 of them to the group."""
    fake_api.enforce_limits(SHORT)
    bots, dbs = await start_workers(fake_api, await postgres_url(), 3, SHORT)

    async def privately(i: int, bot: TelegramBot) -> None:
        for n in range(25):
            await bot.post(private_post(25 * i + n), message(f"riêng {i}.{n}"))

    try:
        await asyncio.gather(
            *(
                bot.post(group_post(), message(f"nhóm {i}.{n}"))
                for i, bot in enumerate(bots)
                for n in range(5)
            ),
            *(privately(i, bot) for i, bot in enumerate(bots)),
        )
    finally:
        await stop_workers(bots, dbs)
    # A slot is booked by the database's clock and the send reaches the fake a little later;
    # on a loaded machine that delay varies, so one send may meet a window the fake sees as
    # full (it is retried after `retry_after` and still delivered, checked below). Per-process
    # windows are refused by the dozen here (21), shared ones at most by the odd one.
    assert len(fake_api.refused_429) <= 2, fake_api.refused_429
    group = [t for chat, t in fake_api.accepted if chat == GROUP]
    private = [chat for chat, _ in fake_api.accepted if chat > 0]
    assert len(group) == 15
    assert sorted(private) == [PRIVATE + n for n in range(75)]
    assert most_in_any_window(group, SHORT.group_window) <= SHORT.per_group_minute
    assert most_in_any_window([t for _, t in fake_api.accepted], 1.0) <= 30


async def test_bookings_on_postgresql_are_serialised_per_scope() -> None:
    """Nine bookings from three database handles at once, eight a window of 4 s (a short
    window, as the bot's second) and so two a quarter of it: two go at once, two 1 s later,
    and so on; another scope is not held. A long window (a group's minute) is not spread:
    twelve bookings of its twenty all go at once."""
    handles = [await Database.open(await postgres_url()) for _ in range(3)]
    try:
        windows = [h.send_windows() for h in handles]
        assert all(isinstance(w, SharedSendWindows) for w in windows)
        chat = [SendWindow("test:chat", 8, 4.0)]
        booked = await asyncio.gather(*(w.reserve(chat) for w in windows if w for _ in range(3)))
        other = await windows[0].reserve([SendWindow("test:other", 8, 4.0)]) if windows[0] else None
        minute = [SendWindow("test:minute", 20, 60.5)]
        burst = await asyncio.gather(*(w.reserve(minute) for w in windows if w for _ in range(4)))
        # A group's window before the bot's: when the group's is full nothing is booked.
        both = [SendWindow("test:group", 1, 100.0), SendWindow("test:bot", 8, 100.0)]
        first = await windows[0].reserve(both) if windows[0] else None
        second = await windows[1].reserve(both) if windows[1] else None
        alone = await windows[2].reserve([both[1]]) if windows[2] else None
    finally:
        for h in handles:
            await h.close()
    assert all(ok for _, ok in booked)
    assert [round(wait) for wait, _ in sorted(booked)] == [0, 0, 1, 1, 2, 2, 3, 3, 4]
    assert len(burst) == 12
    assert all(ok and wait < 0.5 for wait, ok in burst)  # spread, the 6th would wait 15 s
    assert other == (0.0, True)
    assert first == (0.0, True)
    assert second is not None
    assert second[1] is False
    assert round(second[0]) == 100
    assert alone == (0.0, True)  # the bot's window holds the one booked send only


# --- a group never holds a private reply -----------------------------------------------------


async def test_a_private_post_does_not_wait_for_a_full_group_window(
    fake_api: FakeBotApi, database_url: str
) -> None:
    """The group's window is full (20 sent; its minute shortened to 4 s): the 21st group post
    waits, while a private post made after it reaches the server first. On SQLite (own
    windows) and PostgreSQL (shared)."""
    limits = Limits(per_group_minute=20, group_window=4.0)
    fake_api.enforce_limits(limits)
    bots, dbs = await start_workers(fake_api, database_url, 1, limits)
    bot = bots[0]
    try:
        for n in range(20):
            await bot.post(group_post(), message(f"nhóm {n}"))
        waiting = asyncio.create_task(bot.post(group_post(), message("nhóm 21")))
        await asyncio.sleep(0.1)  # the 21st is queued at the group's window
        assert await bot.post(private_post(1), message("riêng"))
        assert not waiting.done()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    finally:
        await stop_workers(bots, dbs)
    assert [chat for chat, _ in fake_api.accepted] == [GROUP] * 20 + [PRIVATE + 1]
    assert fake_api.refused_429 == []


async def test_a_group_answered_429_holds_only_that_group(
    fake_api: FakeBotApi, database_url: str
) -> None:
    """Telegram answers a group 429 with retry_after 30: that group's post waits, a private
    post goes at once (it used to wait the 30 seconds too)."""
    fake_api.refuse(GROUP, flood(30))
    bots, dbs = await start_workers(fake_api, database_url, 1, Limits())
    bot = bots[0]
    try:
        waiting = asyncio.create_task(bot.post(group_post(), message("nhóm")))
        await fake_api.wait_for(
            lambda api: any(c.status == 429 for c in api.calls if c.method == "sendMessage")
        )
        assert await bot.post(private_post(1), message("riêng"))
        # The private post went while the group still waited out its 30 s: one try so far.
        tries = [c for c in fake_api.calls if int(c.params.get("chat_id", 0)) == GROUP]
        assert len(tries) == 1
        assert not waiting.done()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    finally:
        await stop_workers(bots, dbs)
    assert fake_api.texts(PRIVATE + 1) == ["riêng"]
    assert fake_api.texts(GROUP) == []


# --- SQLite, and a database that cannot book -------------------------------------------------


async def test_sqlite_keeps_the_in_memory_windows(fake_api: FakeBotApi, tmp_path: object) -> None:
    db = await Database.open(f"sqlite:///{tmp_path}/one.db")
    try:
        assert db.send_windows() is None
        bot = TelegramBot(
            Engine(telegram_catalogue(), db, lambda: datetime.now(UTC)),
            TelegramSettings(token=TOKEN, api_root=fake_api.root),
            windows=db.send_windows(),
        )
        fake_api.enforce_limits()
        await bot.application.initialize()
        try:
            for n in range(3):
                assert await bot.post(private_post(n), message("riêng"))
        finally:
            await bot.application.shutdown()
        async with db.engine.connect() as connection:
            booked = (await connection.exec_driver_sql("SELECT count(*) FROM send_slots")).scalar()
    finally:
        await db.close()
    assert len(fake_api.accepted) == 3
    assert booked == 0  # nothing booked in the database: the windows are the process's


async def test_a_database_that_cannot_book_falls_back_to_own_windows_logged_once(
    fake_api: FakeBotApi, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    """The shared windows point at a server that refuses connections: every post is still
    sent (within the limits, by the process's own windows), and the fallback is logged once."""
    unreachable = create_engine("postgresql://postgres@127.0.0.1:9/gone")
    gone = SharedSendWindows(unreachable)
    db = await Database.open(f"sqlite:///{tmp_path}/one.db")
    fake_api.enforce_limits()
    caplog.set_level(logging.WARNING, logger="bot.telegram.limiter")
    bot = TelegramBot(
        Engine(telegram_catalogue(), db, lambda: datetime.now(UTC)),
        TelegramSettings(token=TOKEN, api_root=fake_api.root),
        windows=gone,
    )
    await bot.application.initialize()
    try:
        for n in range(40):  # 40 private posts: more than a second's worth
            assert await bot.post(private_post(n), message("riêng"))
        await bot.post(group_post(), message("nhóm"))
    finally:
        await bot.application.shutdown()
        await db.close()
        await unreachable.dispose()
    assert len(fake_api.accepted) == 41
    assert fake_api.refused_429 == []
    fallbacks = [r for r in caplog.records if "shared send windows unavailable" in r.message]
    assert len(fallbacks) == 1
