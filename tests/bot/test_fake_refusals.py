"""The fake servers refuse sends the way the real ones do, and the clients read the refusals as
they would read the real ones (python-telegram-bot's exception per answer, Zalo's `ok: false`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from zalo_fake import GROUP_ID, TOKEN, FakeZalo, Sleeps

from bot.zalo.client import ZaloApiError, ZaloClient
from testing.fake_telegram import (
    BLOCKED,
    CHAT_NOT_FOUND,
    KICKED,
    NEVER_STARTED,
    FakeBotApi,
    Refusal,
    flood,
    migrated,
)
from testing.fake_telegram import TOKEN as TELEGRAM_TOKEN


@pytest.fixture
async def api() -> object:
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.mark.parametrize(
    ("refusal", "error", "text"),
    [
        (KICKED, Forbidden, "bot was kicked from the group chat"),
        (BLOCKED, Forbidden, "bot was blocked by the user"),
        (NEVER_STARTED, Forbidden, "bot can't initiate conversation with a user"),
        (CHAT_NOT_FOUND, BadRequest, "Chat not found"),
    ],
)
async def test_telegram_refusals_reach_ptb_as_the_real_ones(
    api: FakeBotApi, refusal: Refusal, error: type[TelegramError], text: str
) -> None:
    async with Bot(TELEGRAM_TOKEN, base_url=f"{api.root}/bot") as bot:
        api.refuse(-5, refusal)
        with pytest.raises(error) as raised:
            await bot.send_message(-5, "Tin")
        assert text in str(raised.value)
        api.allow(-5)
        assert (await bot.send_message(-5, "Tin")).text == "Tin"
    assert [c.status for c in api.calls if c.method == "sendMessage"] == [refusal.status, 200]


async def test_telegram_migration_and_flood_carry_their_parameters(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # as TelegramBot opts in
    async with Bot(TELEGRAM_TOKEN, base_url=f"{api.root}/bot") as bot:
        api.refuse(-5, migrated(-1005))
        with pytest.raises(ChatMigrated) as moved:
            await bot.send_message(-5, "Tin")
        assert moved.value.new_chat_id == -1005
        api.refuse(-5, flood(7))
        with pytest.raises(RetryAfter) as wait:
            await bot.send_photo(-5, b"\x89PNG")
        assert wait.value.retry_after == timedelta(seconds=7)


async def test_telegram_refused_webhook_is_a_bad_request(api: FakeBotApi) -> None:
    api.refuse_webhook("Bad Request: bad webhook: Webhook can be set up only on ports 80, 88")
    async with Bot(TELEGRAM_TOKEN, base_url=f"{api.root}/bot") as bot:
        with pytest.raises(BadRequest, match="ports 80, 88"):
            await bot.set_webhook("https://example.org:9000/telegram/webhook")
    assert api.webhook == {}


async def test_zalo_refuses_with_http_200_and_ok_false(fake_zalo: FakeZalo, sleeps: Sleeps) -> None:
    client = ZaloClient(TOKEN, fake_zalo.url, sleep=sleeps)
    try:
        fake_zalo.refuse(GROUP_ID, 400, "Bot is not in this group")
        with pytest.raises(ZaloApiError) as raised:
            await client.send_message(GROUP_ID, "Tin")
        assert (raised.value.status, raised.value.error_code) == (200, 400)
        assert sleeps.asked == []  # a refusal is final: no retry
        fake_zalo.allow(GROUP_ID)
        await client.send_message(GROUP_ID, "Tin")
    finally:
        await client.aclose()
    assert fake_zalo.sent == [(GROUP_ID, "Tin")]


async def test_zalo_error_code_403_is_its_internal_server_error_and_retried(
    fake_zalo: FakeZalo, sleeps: Sleeps
) -> None:
    """Zalo's error table gives 403 as "Internal server error" (tests/bot/zalo_fake.py cites
    it), unlike Telegram's 403: a failure on Zalo's side, retried like a 5xx."""
    client = ZaloClient(TOKEN, fake_zalo.url, sleep=sleeps)
    try:
        fake_zalo.answer(
            "sendMessage",
            200,
            {"ok": False, "error_code": 403, "description": "Internal server error"},
        )
        await client.send_message(GROUP_ID, "Tin")
    finally:
        await client.aclose()
    assert len(sleeps.asked) == 1
    assert fake_zalo.sent == [(GROUP_ID, "Tin")]
