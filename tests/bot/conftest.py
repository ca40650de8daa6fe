"""Fixtures of the bot package's tests."""

from collections.abc import AsyncIterator

import pytest
from zalo_fake import fake_zalo, make_bot, sleeps

from bot.telegram.bot import TelegramBot
from storage import Database
from testing.fake_telegram import FakeBotApi
from tests.bot.test_telegram import start_bot

__all__ = ["fake_zalo", "make_bot", "sleeps"]  # the fake Zalo Bot API server's fixtures


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Telegram Bot API server, on a random port of 127.0.0.1."""
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(api: FakeBotApi, db: Database) -> AsyncIterator[TelegramBot]:
    """A polling Telegram bot on `api`, the real engine and storage behind it."""
    telegram = await start_bot(api, db)
    yield telegram
    await telegram.stop()
