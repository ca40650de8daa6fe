"""In a forum supergroup every page and photo of a reply goes to the topic of the message it
answers (`message_thread_id`), not to the General topic (issue 15)."""

from __future__ import annotations

from typing import Any

from testing.fake_telegram import text_update
from tests.bot.test_telegram import GROUP, LAN, LEADER, REPORT, Harness, fake_api, polling

__all__ = ["fake_api", "polling"]  # the fixtures, shared with the Telegram tests

TOPIC = 77


def in_topic(user: int, text: str) -> dict[str, Any]:
    """A message posted in a forum topic, as the Bot API delivers it."""
    update = text_update(GROUP, user, text)
    update["message"]["chat"]["is_forum"] = True
    update["message"]["message_thread_id"] = TOPIC
    update["message"]["is_topic_message"] = True
    return update


async def test_every_page_and_photo_of_a_reply_goes_to_its_topic(polling: Harness) -> None:
    polling.api.push(in_topic(LAN, f"/baocao\n{REPORT}"))
    await polling.said(GROUP, "Đã nhận báo cáo")
    polling.api.push(in_topic(LEADER, "/bieudo Xác thực ĐDĐT"))
    await polling.api.wait_for(lambda api: api.sent("sendPhoto"))
    calls = polling.api.sent("sendMessage") + polling.api.sent("sendPhoto")
    to_group = [c for c in calls if int(c.params["chat_id"]) == GROUP]
    assert len(to_group) >= 2
    assert all(int(c.params.get("message_thread_id", 0)) == TOPIC for c in to_group)


async def test_a_reply_outside_any_topic_names_none(polling: Harness) -> None:
    polling.api.push(text_update(GROUP, LAN, "/trangthai"))
    await polling.said(GROUP, "Tình hình báo cáo")
    assert all("message_thread_id" not in c.params for c in polling.api.sent("sendMessage"))
