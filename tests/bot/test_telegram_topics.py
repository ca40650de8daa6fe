"""In a forum supergroup every page and photo of a reply goes to the topic of the message it
answers (`message_thread_id`), not to the General topic; scheduled posts and nudges go to the
topic configured for the chat (`[chats.KEY] telegram_topic`), if any (issue 15)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.telegram.bot import TelegramBot
from core.catalogue import Catalogue
from core.chat import Incoming, render_plain
from core.schedule import Job, JobKind
from scheduler.jobs import planned, run_job
from storage import Database
from testing.fake_telegram import Call, FakeBotApi, text_update
from tests.bot.test_telegram import (
    GROUP,
    LAN,
    LEADER,
    REPORT,
    Harness,
    fake_api,
    polling,
    start_bot,
    telegram_catalogue,
)

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


# --- scheduled posts to a configured topic ([chats.KEY] telegram_topic) --------------------------

POSTS_TOPIC = 12
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FRIDAY = datetime(2024, 11, 15, 9, 0, tzinfo=TZ)
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)


def with_topic(catalogue: Catalogue, topic: int) -> Catalogue:
    chats = tuple(
        replace(c, topics={"telegram": str(topic)}) if c.key == "nhom_bao_cao" else c
        for c in catalogue.chats
    )
    return replace(catalogue, chats=chats)


@pytest.fixture
async def forum(fake_api: FakeBotApi, db: Database) -> AsyncIterator[Harness]:
    """The group is a forum whose topic POSTS_TOPIC is configured for scheduled posts."""
    fake_api.open_topic(GROUP, POSTS_TOPIC)
    bot = await start_bot(fake_api, db, with_topic(telegram_catalogue(), POSTS_TOPIC))
    harness = Harness(fake_api, bot, db)
    yield harness
    await bot.stop()


def job(catalogue: Catalogue, kind: JobKind) -> Job:
    end = datetime(2024, 11, 18, 12, 0, tzinfo=TZ)
    return next(j for j in planned(catalogue, FRIDAY, end) if j.kind is kind)


async def report_last_week_and_this(bot: TelegramBot) -> None:
    """Two weeks of reports, so the digest has rankings and draws its charts."""
    engine = bot.engine
    for moment, cccd in ((SATURDAY - timedelta(days=7), "6.100"), (SATURDAY, "6.352")):
        engine.clock = lambda moment=moment: moment
        text = "/baocao\n" + REPORT.replace("6.352", cccd)
        message = Incoming("telegram", str(GROUP), "group", str(LAN), "Lan", text, moment)
        [answer] = await engine.handle(message)
        assert "Đã nhận báo cáo" in render_plain(answer.blocks)


def to_group(api: FakeBotApi) -> list[Call]:
    calls = api.sent("sendMessage") + api.sent("sendPhoto")
    return [c for c in calls if int(c.params["chat_id"]) == GROUP]


async def test_scheduled_posts_and_their_photos_go_to_the_configured_topic(
    forum: Harness, tmp_path: Path
) -> None:
    bot, api = forum.bot, forum.api
    catalogue = bot.catalogue
    await report_last_week_and_this(bot)
    early = job(catalogue, JobKind.EARLY)
    assert await run_job(catalogue, forum.db, [bot], early, early.at) == 1
    digest = job(catalogue, JobKind.DIGEST)
    assert await run_job(catalogue, forum.db, [bot], digest, digest.at, tmp_path) >= 1
    assert api.sent("sendPhoto")
    calls = to_group(api)
    assert any(
        "TỔNG HỢP BÁO CÁO TUẦN 47/2024" in c.params["text"] for c in calls if "text" in c.params
    )
    assert {c.params.get("message_thread_id") for c in calls} == {POSTS_TOPIC}


async def test_a_leaders_nudge_goes_to_the_configured_topic(forum: Harness) -> None:
    forum.bot.engine.clock = lambda: SATURDAY
    forum.api.push(text_update(LEADER, LEADER, "/nhacnho", date=SATURDAY))
    await forum.said(LEADER, "Đã nhắc")
    [post] = [c for c in to_group(forum.api) if "Lãnh đạo nhắc" in c.params["text"]]
    assert post.params["message_thread_id"] == POSTS_TOPIC
    # The private messages to officers are not in any topic.
    assert all(
        "message_thread_id" not in c.params
        for c in forum.api.sent()
        if int(c.params["chat_id"]) > 0
    )


async def test_without_a_topic_scheduled_posts_name_none(polling: Harness, tmp_path: Path) -> None:
    bot = polling.bot
    await report_last_week_and_this(bot)
    digest = job(bot.catalogue, JobKind.DIGEST)
    assert await run_job(bot.catalogue, polling.db, [bot], digest, digest.at, tmp_path) >= 1
    assert polling.api.sent("sendPhoto")
    assert all("message_thread_id" not in c.params for c in to_group(polling.api))


async def test_a_topic_that_does_not_exist_is_a_failed_post_not_recorded(
    fake_api: FakeBotApi, db: Database
) -> None:
    """Telegram answers 400 "message thread not found" (the topic was deleted, or the id is
    wrong): the post is not taken as made, so it is retried and the admins told."""
    bot = await start_bot(fake_api, db, with_topic(telegram_catalogue(), 999))
    try:
        early = job(bot.catalogue, JobKind.EARLY)
        assert await run_job(bot.catalogue, db, [bot], early, early.at) == 0
        assert [c.status for c in fake_api.calls if c.method == "sendMessage"] == [400]
        async with db.unit_of_work() as uow:
            assert await uow.posts.made(early.id) == set()
    finally:
        await bot.stop()
