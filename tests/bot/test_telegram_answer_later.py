"""An answer Telegram still refused after the adapter's own retries (its servers failing) is
not lost with the log line: it goes to the outbox, which tries it again with its backoff,
records it made only once Telegram took it, and after a day tells the admins (issue 17). A
refusal that trying again would not change (the member blocked the bot) is not handed over.
Over real HTTP against the fake Bot API, which answers 502 "Bad Gateway" as Telegram's front
servers do while its back end is down, and 403 "Forbidden: bot was blocked by the user"
(https://core.telegram.org/api/errors: 403 and 5xx)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.telegram.bot import TelegramBot
from handlers.engine import ANSWER_RETRIED
from handlers.outbox import OutboxRunner
from storage import Database
from storage.outbox import DUE, FAILED, MADE
from testing.fake_telegram import FakeBotApi, Refusal, text_update
from tests.bot.test_telegram import ADMIN, LAN, REPORT, fake_api, start_bot

__all__ = ["fake_api"]  # the fixture, shared with the Telegram tests

ATTEMPTS = 2  # the adapter's own tries of a send


def refused(api: FakeBotApi, status: int) -> int:
    return len([c for c in api.calls if c.method == "sendMessage" and c.status == status])


async def outcome(db: Database, job_id: str) -> list[tuple[str, int]]:
    async with db.unit_of_work() as uow:
        return [(state, attempts) for _, _, state, attempts, _ in await uow.outbox.outcome(job_id)]


@pytest.fixture
async def bot(fake_api: FakeBotApi, db: Database) -> AsyncIterator[TelegramBot]:
    bot = await start_bot(fake_api, db, send_attempts=ATTEMPTS)
    yield bot
    await bot.stop()


def push_report(api: FakeBotApi) -> tuple[dict[str, Any], str]:
    """An officer's report in their private chat: the update, and the job id its answer
    would have in the outbox."""
    update = api.push(text_update(LAN, LAN, f"/baocao\n{REPORT}"))
    return update, f"answer:telegram:{LAN}:{update['message']['message_id']}"


async def outbox_refused_once(bot: TelegramBot, db: Database, job: str) -> OutboxRunner:
    """Until the answer is handed over (waiting for the outbox's next look), then that look,
    which Telegram refuses too: the row waits its backoff. The runner, for the next looks."""
    await until(db, job, [(DUE, 0)])
    runner = OutboxRunner(bot.engine.catalogue, db, [bot])
    await runner.drain_due()
    assert await outcome(db, job) == [(DUE, 1)]
    return runner


async def until(db: Database, job_id: str, expected: list[tuple[str, int]]) -> None:
    for _ in range(500):
        if await outcome(db, job_id) == expected:
            return
        await asyncio.sleep(0.02)
    assert await outcome(db, job_id) == expected


async def stored_versions(db: Database) -> int:
    async with db.unit_of_work() as uow:
        versions = 0
        for period in await uow.submissions.periods_with_reports(10):
            versions += len(await uow.submissions.versions("binh_long", period))
        return versions


async def test_an_answer_refused_after_the_retries_reaches_the_member_through_the_outbox(
    fake_api: FakeBotApi, db: Database, bot: TelegramBot
) -> None:
    # The adapter's two tries of the answer, and the two of the outbox's first post.
    fake_api.fail("sendMessage", 502, count=2 * ATTEMPTS)
    _, job = push_report(fake_api)
    runner = await outbox_refused_once(bot, db, job)
    assert refused(fake_api, 502) == 2 * ATTEMPTS
    assert not [t for t in fake_api.texts(LAN) if "Đã nhận báo cáo" in t]

    await runner.drain_due(datetime.now(UTC) + timedelta(minutes=2))
    answers = [t for t in fake_api.texts(LAN) if "Đã nhận báo cáo" in t]
    assert len(answers) == 1
    assert "Xã Bình Long" in answers[0]
    assert await outcome(db, job) == [(MADE, 1)]
    await runner.drain_due(datetime.now(UTC) + timedelta(minutes=30))
    assert len([t for t in fake_api.texts(LAN) if "Đã nhận báo cáo" in t]) == 1
    assert await stored_versions(db) == 1  # the report itself: stored once


async def test_an_answer_refused_for_a_day_is_given_up_and_the_admins_are_told(
    fake_api: FakeBotApi, db: Database, bot: TelegramBot
) -> None:
    fake_api.refuse(LAN, Refusal(502, "Bad Gateway"))
    _, job = push_report(fake_api)
    runner = await outbox_refused_once(bot, db, job)

    await runner.drain_due(datetime.now(UTC) + ANSWER_RETRIED + timedelta(minutes=1))
    assert [state for state, _ in await outcome(db, job)] == [FAILED]
    [notice] = fake_api.texts(ADMIN)
    assert "KHÔNG gửi được câu trả lời của bot" in notice
    assert "(telegram): Bad Gateway" in notice
    assert not fake_api.texts(LAN)
    assert await stored_versions(db) == 1


async def test_an_answer_to_a_member_who_blocked_the_bot_is_not_handed_over(
    fake_api: FakeBotApi, db: Database, bot: TelegramBot
) -> None:
    fake_api.refuse(LAN, Refusal(403, "Forbidden: bot was blocked by the user"))
    update, job = push_report(fake_api)
    key = str(update["update_id"])
    for _ in range(500):  # until the update is handled completely (recorded answered)
        async with db.unit_of_work() as uow:
            if await uow.updates.kept("telegram", key) == []:
                break
        await asyncio.sleep(0.02)
    assert refused(fake_api, 403) == 1  # not tried again: 403 is final
    assert await outcome(db, job) == []
    assert await stored_versions(db) == 1
