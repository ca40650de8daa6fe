"""Forwarded and edited reports through the real python-telegram-bot application and the fake
Bot API server over real HTTP: what the server was asked and what the database holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.web import WebServer
from storage import Database
from testing.fake_telegram import FakeBotApi, text_update, user
from tests.bot.test_telegram import GROUP, LAN, REPORT, THUAN, Harness, post_update, start_bot


@pytest.fixture
async def polling_bot(api: FakeBotApi, db: Database) -> AsyncIterator[Harness]:
    harness = Harness(api, await start_bot(api, db), db)
    yield harness
    await harness.bot.stop()


@pytest.fixture
async def webhook_bot(api: FakeBotApi, db: Database) -> AsyncIterator[Harness]:
    bot = await start_bot(
        api,
        db,
        webhook_url="https://bot.example.vn/telegram/webhook",
        webhook_secret="s3cr3t-Value",
    )
    web = WebServer(port=0)
    web.add_routes(bot.web_routes())
    await web.start()
    yield Harness(api, bot, db, web)
    await web.stop()
    await bot.stop()


def _edited(original: dict[str, Any], text: str) -> dict[str, Any]:
    message = dict(original["message"])
    message["text"] = text
    message["edit_date"] = message["date"] + 1
    return {"edited_message": message}


async def test_polling_asks_for_edits(polling_bot: Harness) -> None:
    await polling_bot.api.wait_for(lambda a: a.sent("getUpdates"))
    call = polling_bot.api.sent("getUpdates")[0]
    assert set(call.params["allowed_updates"]) == {"message", "edited_message", "callback_query"}


async def test_webhook_asks_for_edits(webhook_bot: Harness) -> None:
    [call] = webhook_bot.api.sent("setWebhook")
    assert set(call.params["allowed_updates"]) == {"message", "edited_message", "callback_query"}


async def test_forwarded_report_is_refused(polling_bot: Harness) -> None:
    two_weeks_ago = int((datetime.now(UTC) - timedelta(days=14)).timestamp())
    for chat, text in ((GROUP, f"/baocao\n{REPORT}"), (LAN, REPORT)):
        update = text_update(chat, LAN, text)
        update["message"]["forward_origin"] = {
            "type": "user",
            "date": two_weeks_ago,
            "sender_user": user(THUAN, "Thuận"),
        }
        polling_bot.api.push(update)
        [answer] = await polling_bot.said(chat, "Tin nhắn chuyển tiếp")
        assert "CHƯA được nhận" in answer
    assert await polling_bot.reports("binh_long") == []
    assert await polling_bot.reports("binh_thuan") == []


async def test_an_edited_report_replaces_the_figures(polling_bot: Harness) -> None:
    original = polling_bot.api.push(
        text_update(GROUP, LAN, "/baocao\n" + REPORT.replace("5.014", "5.104"))
    )
    await polling_bot.said(GROUP, "Đã nhận báo cáo")
    edit = polling_bot.api.push(_edited(original, f"/baocao\n{REPORT}"))
    assert edit["update_id"] != original["update_id"]
    [answer] = await polling_bot.said(GROUP, "đã cập nhật theo tin nhắn đã sửa")
    assert "5.104 → 5.014" in answer
    call = next(c for c in polling_bot.api.sent() if "tin nhắn đã sửa" in c.params["text"])
    assert call.params["reply_parameters"]["message_id"] == original["message"]["message_id"]
    versions = await polling_bot.reports("binh_long")
    assert [(v.version, v.current, v.values["eid_verified"]) for v in versions] == [
        (1, False, 5104),
        (2, True, 5014),
    ]


async def test_an_edit_over_the_webhook_is_a_correction_once(webhook_bot: Harness) -> None:
    original = {"update_id": 70, **text_update(GROUP, LAN, "/baocao\n" + REPORT)}
    assert await post_update(webhook_bot, original) == 200
    await webhook_bot.said(GROUP, "Đã nhận báo cáo")
    edit = {"update_id": 71, **_edited(original, "/baocao\n" + REPORT.replace("5.014", "5.020"))}
    assert await post_update(webhook_bot, edit) == 200
    await webhook_bot.said(GROUP, "đã cập nhật theo tin nhắn đã sửa")
    assert await post_update(webhook_bot, edit) == 200  # a webhook retry of the edit
    assert await post_update(
        webhook_bot, {"update_id": 72, **text_update(GROUP, LAN, "/trangthai")}
    )
    await webhook_bot.said(GROUP, "Tình hình báo cáo")
    assert sum("tin nhắn đã sửa" in t for t in webhook_bot.api.texts(GROUP)) == 1
    versions = await webhook_bot.reports("binh_long")
    assert [v.values["eid_verified"] for v in versions] == [5014, 5020]
    # An edited message that is no report gets no answer.
    chatter = {"update_id": 73, **_edited(original, "/xephang")}
    assert await post_update(webhook_bot, chatter) == 200
    assert await post_update(
        webhook_bot, {"update_id": 74, **text_update(GROUP, LAN, "/trangthai")}
    )
    await webhook_bot.said(GROUP, "Tình hình báo cáo", count=2)
    assert not any("Xếp hạng" in t or "xếp hạng" in t for t in webhook_bot.api.texts(GROUP))


async def test_a_strangers_username_reaches_the_admins_list(polling_bot: Harness) -> None:
    stranger = 77_001
    update = text_update(stranger, stranger, "/dangky Xã Bình Long", name="Người lạ")
    update["message"]["from"]["username"] = "duy_nt"
    polling_bot.api.push(update)
    await polling_bot.said(stranger, "Đã gửi yêu cầu đăng ký")
    async with polling_bot.db.unit_of_work() as uow:
        [waiting] = await uow.registrations.pending_details()
    assert waiting.username == "duy_nt"
    assert waiting.registration.sender.user_id == str(stranger)
