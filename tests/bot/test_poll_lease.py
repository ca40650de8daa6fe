"""One poller per bot token across processes (issue 17): a process that long-polls takes the
token's polling lease (`bot.runtime.take_poll_lease`, named after a hash of the token) and
keeps renewing it; a second poller on one token is refused at start with one Vietnamese
line, before it ever calls getUpdates, once it saw the lease renewed (its holder is alive);
once the first stops, or its lease expires (a process that vanished), a new one starts. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr
from zalo_fake import TOKEN as ZALO_TOKEN
from zalo_fake import FakeZalo

from bot import texts
from bot.config_file import StartupError
from bot.runtime import poll_lease_name, serve
from bot.settings import Settings
from storage import Database
from storage.lease import Lease, keep
from testing.fake_telegram import TOKEN, FakeBotApi
from tests.bot.test_telegram_one_receiver import answered, run_bot, the_one_line
from tests.conftest import CONFIG_PATH
from tests.storage.test_storage_lease import expire_now

TTL = 30.0


def telegram(api: FakeBotApi, url: str) -> Settings:
    return Settings(
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=api.root,
        database_url=url,
        config_path=CONFIG_PATH,
        lease_ttl_seconds=TTL,
        lease_renew_seconds=0.2,
    )


def polls(api: FakeBotApi) -> int:
    return sum(1 for c in api.calls if c.method == "getUpdates")


async def test_a_second_poller_is_refused_at_start_and_a_new_one_starts_after_the_first(
    api: FakeBotApi, database_url: str, tmp_path: Path
) -> None:
    stop_first = asyncio.Event()
    first = asyncio.create_task(serve(telegram(api, database_url), stop=stop_first))
    try:
        await answered(api, "xin chào")  # the first polls and answers
        with pytest.raises(StartupError) as refused:
            await serve(telegram(api, database_url))
        assert str(refused.value) == texts.poller_elsewhere("telegram", "TELEGRAM_BOT_TOKEN")
        assert str(refused.value).startswith("một tiến trình khác đang nhận tin của bot này")
        assert TOKEN not in str(refused.value)
        # Refused before it polled: a second getUpdates would have ended the first's with 409.
        assert [c for c in api.calls if c.status == 409] == []

        # As a process: exit code 2 and the one line.
        code, stderr = await run_bot(
            api, tmp_path, DATABASE_URL=database_url, LEASE_TTL_SECONDS=str(TTL)
        )
        assert code == 2, stderr
        assert the_one_line(stderr) == (
            "Lỗi khởi động: " + texts.poller_elsewhere("telegram", "TELEGRAM_BOT_TOKEN")
        )
        assert [c for c in api.calls if c.status == 409] == []
        await answered(api, "/huongdan")  # the first still receives everything
    finally:
        stop_first.set()
        await asyncio.wait_for(first, 30)

    # Stopped cleanly, the first let its lease go: a new poller starts at once.
    stop_next = asyncio.Event()
    following = asyncio.create_task(serve(telegram(api, database_url), stop=stop_next))
    try:
        before = polls(api)
        # /huongdan: a stranger's one answer of the hour went to "xin chào", and on
        # PostgreSQL the new process counts with the first's (handlers.flood).
        await answered(api, "/huongdan")
        assert polls(api) > before
    finally:
        stop_next.set()
        await asyncio.wait_for(following, 30)


async def test_a_poller_that_vanished_is_replaced_once_its_lease_expired(
    api: FakeBotApi, database_url: str, db: Database
) -> None:
    # A process that took the lease and died without letting it go (SIGKILL, a lost host):
    # nobody renews it. A process started meanwhile (systemd restarting the killed one) waits
    # for the lease to expire by the database's clock, then polls.
    vanished = Lease(db, poll_lease_name("telegram", TOKEN), ttl=2)
    assert await vanished.acquire()
    vanished.forget()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(telegram(api, database_url), stop=stop))
    try:
        await answered(api, "xin chào")
        state = await vanished.state()
        assert state is not None
        holder, token, live = state
        assert (token, live) == (2, True)  # taken after it expired, with a new token
        assert holder != vanished.holder
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await vanished.close()


async def test_a_running_poller_whose_lease_was_taken_stops(
    api: FakeBotApi, database_url: str, db: Database
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(telegram(api, database_url), stop=stop))
    other = Lease(db, poll_lease_name("telegram", TOKEN), ttl=TTL)
    try:
        await answered(api, "xin chào")
        # Its renewals could not reach the database past the TTL (by the database's clock),
        # and another process took the lease meanwhile. (Its renewal every 0.2 s takes an
        # expired lease of its own back when it comes first: expired again until the other
        # wins, a few milliseconds later.)
        for _ in range(50):
            await expire_now(db, poll_lease_name("telegram", TOKEN))
            if await other.acquire():
                break
        assert other.token is not None
        with pytest.raises(StartupError) as stopped:
            await asyncio.wait_for(task, 30)
        assert str(stopped.value) == texts.poller_lost("telegram")
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
        await other.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_zalo_polling_takes_its_own_lease(
    fake_zalo: FakeZalo, database_url: str, db: Database
) -> None:
    holder = Lease(db, poll_lease_name("zalo", ZALO_TOKEN), ttl=TTL)
    assert await holder.acquire()
    renewing = asyncio.create_task(keep(holder, 0.2, lambda: None))  # a live poller
    settings = Settings(
        zalo_bot_token=SecretStr(ZALO_TOKEN),
        zalo_api_base_url=fake_zalo.url,
        database_url=database_url,
        config_path=CONFIG_PATH,
    )
    try:
        with pytest.raises(StartupError) as refused:
            await serve(settings)
        assert str(refused.value) == texts.poller_elsewhere("zalo", "ZALO_BOT_TOKEN")
        assert "getUpdates" not in fake_zalo.methods()
        assert "deleteWebhook" not in fake_zalo.methods()
        assert ZALO_TOKEN not in poll_lease_name("zalo", ZALO_TOKEN)
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)
        await holder.close()
