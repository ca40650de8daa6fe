"""A send whose answer does not come in time has reached Telegram, which has most likely
posted it: it is not sent again (a second copy in a group is seen by everyone) and not taken
as failed; a failure before Telegram carried the call out is still retried (issue 15)."""

from __future__ import annotations

import asyncio

from core.chat import Recipient, reply
from storage import Database
from testing.fake_telegram import FakeBotApi
from tests.bot.test_telegram import GROUP, fake_api, start_bot

__all__ = ["fake_api"]  # the fixture, shared with the Telegram tests

TO_GROUP = Recipient("nhom_bao_cao", "Nhóm", (("telegram", str(GROUP)),), group=True)


async def test_a_send_answered_too_late_is_not_sent_again(
    fake_api: FakeBotApi, db: Database
) -> None:
    bot = await start_bot(fake_api, db, read_timeout_s=0.3)
    try:
        fake_api.answer_late("sendMessage", 1.0)
        assert await bot.post(TO_GROUP, reply("Nhắc báo cáo tuần 47")) is True
        await asyncio.sleep(1.2)  # long enough for any retry to have gone out
        assert fake_api.texts(GROUP).count("Nhắc báo cáo tuần 47") == 1
    finally:
        await bot.stop()


async def test_a_send_that_failed_before_telegram_took_it_is_retried(
    fake_api: FakeBotApi, db: Database
) -> None:
    bot = await start_bot(fake_api, db, read_timeout_s=0.3)
    try:
        fake_api.fail("sendMessage", 502)  # Telegram did not carry it out
        assert await bot.post(TO_GROUP, reply("Nhắc báo cáo tuần 47")) is True
        assert fake_api.texts(GROUP).count("Nhắc báo cáo tuần 47") == 1
        assert len([c for c in fake_api.calls if c.method == "sendMessage"]) == 2
    finally:
        await bot.stop()
