"""Both chat platforms against the one `ChatAdapter` contract, over real HTTP to the fake Bot
APIs: no id means False and nothing sent, a post goes out, a final failure raises, polling
mounts no routes, and a reply naming a configured chat by key reaches that chat's id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import RetryAfter
from zalo_fake import GROUP_ID, OFFICER_ID, TOKEN, FakeZalo, Sleeps, update, zalo_catalogue

from bot.adapter import ChatAdapter, DeliveryFailed
from bot.telegram.bot import TelegramBot, TelegramSettings
from bot.zalo.bot import ZaloBot
from bot.zalo.client import ZaloClient
from core.catalogue import Catalogue
from core.chat import Incoming, Recipient, Reply, Text, reply
from handlers.engine import Engine
from storage import Database
from testing.fake_telegram import TOKEN as TELEGRAM_TOKEN
from testing.fake_telegram import FakeBotApi, text_update
from tests.bot.test_telegram import GROUP, LAN, telegram_catalogue

ELSEWHERE = Recipient("x", "X", (("other", "1"),), group=False)


class Forwarding(Engine):
    """The real engine, plus one reply addressed to the report group by its config key (and
    one to a chat that is not configured), as a command posting elsewhere would add."""

    async def handle(self, message: Incoming) -> list[Reply]:
        return [
            *await super().handle(message),
            Reply((Text.of("Chuyển vào nhóm"),), chat_id="nhom_bao_cao"),
            Reply((Text.of("Không ai nhận"),), chat_id="khong_co_nhom"),
        ]


@pytest.fixture
async def fake_api() -> object:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


def telegram(api: FakeBotApi, engine: Engine) -> TelegramBot:
    return TelegramBot(
        engine,
        TelegramSettings(TELEGRAM_TOKEN, api.root, poll_timeout_s=1, backoff_s=0.01),
    )


def zalo(fake: FakeZalo, engine: Engine, sleeps: Sleeps) -> ZaloBot:
    bot = ZaloBot(ZaloClient(TOKEN, fake.url, sleep=sleeps, max_attempts=2), engine, sleep=sleeps)
    bot.can_join_groups = True  # as if getMe said so: posts to the group go to the group
    return bot


async def test_telegram_keeps_the_adapter_contract(fake_api: FakeBotApi, db: Database) -> None:
    adapter: ChatAdapter = telegram(fake_api, Engine(telegram_catalogue(), db))
    group = Recipient("nhom_bao_cao", "Nhóm", (("telegram", str(GROUP)),))
    assert adapter.platform == "telegram"
    assert adapter.web_routes() == []  # polling
    await adapter.start()
    try:
        assert not await adapter.post(ELSEWHERE, reply("Tin"))
        assert not await adapter.post_many(ELSEWHERE, [reply("Tin")])
        assert fake_api.sent() == []
        assert await adapter.post(group, reply("Tin 1"))
        assert await adapter.post_many(group, [reply("Tin 2"), reply("Tin 3")])
        assert fake_api.texts(GROUP) == ["Tin 1", "Tin 2", "Tin 3"]
        fake_api.fail("sendMessage", 400)
        with pytest.raises(DeliveryFailed):
            await adapter.post(group, reply("Tin 4"))
    finally:
        await adapter.stop()


async def test_zalo_keeps_the_adapter_contract(
    fake_zalo: FakeZalo, db: Database, catalogue: Catalogue, sleeps: Sleeps
) -> None:
    fake_zalo.can_join_groups = True  # getMe lets the bot into groups: group mode
    adapter: ChatAdapter = zalo(fake_zalo, Engine(zalo_catalogue(catalogue), db), sleeps)
    group = Recipient("nhom_bao_cao", "Nhóm", (("zalo", GROUP_ID),))
    assert adapter.platform == "zalo"
    assert adapter.web_routes() == []  # polling
    await adapter.start()
    try:
        assert not await adapter.post(ELSEWHERE, reply("Tin"))
        assert not await adapter.post_many(ELSEWHERE, [reply("Tin")])
        assert fake_zalo.sent == []
        assert await adapter.post(group, reply("Tin 1"))
        assert await adapter.post_many(group, [reply("Tin 2"), reply("Tin 3")])
        assert fake_zalo.sent == [(GROUP_ID, "Tin 1"), (GROUP_ID, "Tin 2\n\nTin 3")]
        fake_zalo.fail("sendMessage", 400, times=2)
        with pytest.raises(DeliveryFailed):
            await adapter.post(group, reply("Tin 4"))
    finally:
        await adapter.stop()


async def test_telegram_sends_a_reply_for_a_configured_chat_to_its_telegram_id(
    fake_api: FakeBotApi, db: Database
) -> None:
    bot = telegram(fake_api, Forwarding(telegram_catalogue(), db))
    await bot.start()
    try:
        fake_api.push(text_update(LAN, LAN, "/huongdan"))
        await fake_api.wait_for(lambda a: "Chuyển vào nhóm" in a.texts(GROUP))
        assert any("Bot báo cáo Đề án 06" in t for t in fake_api.texts(LAN))
    finally:
        await bot.stop()
    # Nothing went to a chat id spelled like a config key, nor to the unknown chat.
    assert all(
        str(c.params["chat_id"]) in (str(LAN), str(GROUP))
        for c in fake_api.calls
        if c.method == "sendMessage"
    )
    assert not any("Không ai nhận" in t for t in fake_api.texts())


async def test_zalo_sends_a_reply_for_a_configured_chat_to_its_zalo_id(
    fake_zalo: FakeZalo, db: Database, catalogue: Catalogue, sleeps: Sleeps
) -> None:
    bot = zalo(fake_zalo, Forwarding(zalo_catalogue(catalogue), db), sleeps)
    try:
        await bot.handle_update(update("/huongdan", message_id="f-1", chat=OFFICER_ID, group=False))
    finally:
        await bot.stop()
    assert [chat for chat, _ in fake_zalo.sent] == [OFFICER_ID, GROUP_ID]
    assert fake_zalo.sent[1] == (GROUP_ID, "Chuyển vào nhóm")


async def test_building_the_telegram_bot_opts_into_timedelta_durations(
    fake_api: FakeBotApi, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    telegram(fake_api, Engine(telegram_catalogue(), db))
    # Without the opt-in PTB warns (an error in this suite) and hands out an int.
    assert RetryAfter(timedelta(seconds=3)).retry_after == timedelta(seconds=3)
