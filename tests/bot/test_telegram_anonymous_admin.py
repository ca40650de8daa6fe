"""An anonymous group administrator (Telegram sends their messages `from` GroupAnonymousBot
with the group as `sender_chat`) is told how to post as themselves instead of met with
silence; nothing they send is stored (issue 15)."""

from __future__ import annotations

from typing import Any

from bot.telegram import texts
from bot.telegram.bot import GROUP_ANONYMOUS_BOT_ID
from testing.fake_telegram import text_update
from tests.bot.test_telegram import GROUP, LAN, REPORT, Harness, fake_api, polling

__all__ = ["fake_api", "polling"]  # the fixtures, shared with the Telegram tests


def anonymous(text: str) -> dict[str, Any]:
    """What the Bot API delivers for an anonymous admin's message (Message.sender_chat)."""
    update = text_update(GROUP, LAN, text)
    update["message"]["from"] = {
        "id": GROUP_ANONYMOUS_BOT_ID,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    update["message"]["sender_chat"] = {"id": GROUP, "type": "supergroup", "title": "Nhóm"}
    return update


async def test_an_anonymous_admin_is_told_to_post_as_themselves(polling: Harness) -> None:
    polling.api.push(anonymous(f"/baocao\n{REPORT}"))
    [answer] = await polling.said(GROUP, "ẩn danh")
    assert answer == texts.ANONYMOUS_ADMIN
    assert await polling.reports("binh_long") == []


async def test_anonymous_chatter_gets_no_answer(polling: Harness) -> None:
    polling.api.push(anonymous("Cảm ơn các xã"))
    polling.api.push(text_update(GROUP, LAN, "/trangthai"))
    await polling.said(GROUP, "Tình hình báo cáo")  # handled after the chatter
    assert not [t for t in polling.api.texts(GROUP) if "ẩn danh" in t]
