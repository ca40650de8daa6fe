"""The step-by-step `/baocao` form behind a round-robin balancer: two Telegram workers in
webhook mode (two engines, two database handles on one database) against the fake Bot API,
each update posted to the next worker. Answer N is field N whichever worker gets it, a
redelivered answer racing on both workers is taken once, and an expired draft is announced by
exactly one worker. On SQLite and PostgreSQL (CI=1)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.telegram.bot import TelegramBot, TelegramSettings
from bot.web import WebServer
from core.catalogue import Catalogue
from handlers.engine import Engine
from storage import Database
from testing.fake_telegram import TOKEN, FakeBotApi, button_update, text_update
from tests.bot.test_telegram import GROUP, LAN, answers_for, telegram_catalogue

SECRET = "s3cr3t-Value"
_update_ids = itertools.count(1)


@dataclass
class Worker:
    bot: TelegramBot
    db: Database
    web: WebServer

    async def post(self, update: dict[str, Any]) -> int:
        """POST the update to this worker's webhook; it answers once the update is handled."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{self.web.port}/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as response,
        ):
            return response.status


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def workers(
    fake_api: FakeBotApi, database_url: str, clock: Clock
) -> AsyncIterator[list[Worker]]:
    catalogue = telegram_catalogue()
    started: list[Worker] = []
    try:
        for _ in range(2):
            db = await Database.open(database_url)
            bot = TelegramBot(
                Engine(catalogue, db, clock),
                TelegramSettings(
                    token=TOKEN,
                    api_root=fake_api.root,
                    webhook_url="https://bot.example.vn/telegram/webhook",
                    webhook_secret=SECRET,
                    backoff_s=0.01,
                    group_per_minute=10_000,
                ),
            )
            await bot.start()
            web = WebServer(port=0)
            web.add_routes(bot.web_routes())
            await web.start()
            started.append(Worker(bot, db, web))
        yield started
    finally:
        for worker in started:
            await worker.web.stop()
            await worker.bot.stop()
            await worker.db.close()


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


def update(body: dict[str, Any]) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **body}


def questions(api: FakeBotApi, total: int) -> list[int]:
    """The field numbers asked so far in the group, in order."""
    asked = []
    for text in api.texts(GROUP):
        for n in range(1, total + 1):
            if f"({n}/{total})" in text:
                asked.append(n)
    return asked


async def stored(db: Database, unit: str) -> list[Any]:
    async with db.unit_of_work() as uow:
        found = []
        for period in await uow.submissions.periods_with_reports(10):
            found += await uow.submissions.versions(unit, period)
        return found


def required(catalogue: Catalogue) -> list[str]:
    return [f.code for f in catalogue.fields if f.required]


async def test_answers_alternating_between_workers_fill_the_fields_in_order(
    workers: list[Worker], fake_api: FakeBotApi
) -> None:
    a, b = workers
    turn = itertools.cycle(workers)
    catalogue = a.bot.catalogue
    codes = required(catalogue)
    answers = answers_for(catalogue, 6000)
    assert await next(turn).post(update(text_update(GROUP, LAN, "/baocao", name="Lan"))) == 200
    assert questions(fake_api, len(codes)) == [1]
    for n, answer in enumerate(answers, start=1):
        body = update(text_update(GROUP, LAN, answer, reply_to_bot=True))
        assert await next(turn).post(body) == 200
        if n < len(answers):
            assert questions(fake_api, len(codes)) == list(range(1, n + 2))
    summaries = [t for t in fake_api.texts(GROUP) if "Kiểm tra lại báo cáo" in t]
    assert len(summaries) == 1
    # Each question was a selective ForceReply quoting the member's message.
    asked = [c for c in fake_api.sent() if f"/{len(codes)})" in c.params["text"]]
    assert len(asked) == len(codes)
    assert all(c.params["reply_markup"] == {"force_reply": True, "selective": True} for c in asked)
    assert await next(turn).post(update(button_update(GROUP, LAN, "form:send"))) == 200
    assert any("Đã nhận báo cáo" in t for t in fake_api.texts(GROUP))
    for db in (a.db, b.db):
        [report] = await stored(db, "binh_long")
        assert [report.values[c] for c in codes] == [int(x) for x in answers]
        assert set(report.values) == set(codes)
    # The draft is gone: a number is just a number again, on either worker.
    before = len(fake_api.texts(GROUP))
    assert await b.post(update(text_update(GROUP, LAN, "6352", reply_to_bot=True))) == 200
    assert not any("/5)" in t for t in fake_api.texts(GROUP)[before:])
    assert len(await stored(a.db, "binh_long")) == 1


async def test_a_redelivered_start_and_answer_racing_on_both_workers_are_taken_once(
    workers: list[Worker], fake_api: FakeBotApi
) -> None:
    a, b = workers
    catalogue = a.bot.catalogue
    codes = required(catalogue)
    answers = answers_for(catalogue, 3000)
    start = update(text_update(GROUP, LAN, "/baocao"))
    assert await asyncio.gather(a.post(start), b.post(dict(start))) == [200, 200]
    assert questions(fake_api, len(codes)) == [1]  # one form started, one question
    for n, answer in enumerate(answers, start=1):
        body = update(text_update(GROUP, LAN, answer, reply_to_bot=True))
        if n == 2:
            # Telegram retries the webhook and the balancer sends the retry to the other
            # worker while the first is still handling it.
            statuses = await asyncio.gather(a.post(body), b.post(dict(body)))
            assert statuses == [200, 200]
        else:
            assert await (a if n % 2 else b).post(body) == 200
        if n < len(answers):
            assert questions(fake_api, len(codes)) == list(range(1, n + 2))
    assert await b.post(update(button_update(GROUP, LAN, "form:send"))) == 200
    [report] = await stored(a.db, "binh_long")
    assert [report.values[c] for c in codes] == [int(x) for x in answers]


async def test_two_different_answers_racing_fill_two_fields(
    workers: list[Worker], fake_api: FakeBotApi
) -> None:
    a, b = workers
    codes = required(a.bot.catalogue)
    assert await a.post(update(text_update(GROUP, LAN, "/baocao"))) == 200
    first = update(text_update(GROUP, LAN, "6000", reply_to_bot=True))
    second = update(text_update(GROUP, LAN, "5000", reply_to_bot=True))
    assert await asyncio.gather(a.post(first), b.post(second)) == [200, 200]
    # Both taken, one field each: the third question is asked, none skipped or repeated
    # beyond the one each answer gets.
    async with a.db.unit_of_work() as uow:
        draft = await uow.drafts.get("telegram", str(GROUP), str(LAN))
    assert draft is not None
    assert draft.index == 2
    assert sorted(draft.values.values()) == [5000, 6000]
    assert set(draft.values) == set(codes[:2])
    assert sorted(questions(fake_api, len(codes))) == [1, 2, 3]


async def test_an_expired_draft_is_announced_by_one_worker_only(
    workers: list[Worker], fake_api: FakeBotApi, clock: Clock
) -> None:
    a, b = workers
    assert await a.post(update(text_update(GROUP, LAN, "/baocao"))) == 200
    clock.now += timedelta(minutes=11)  # past the default 10 minutes
    claimed = await asyncio.gather(a.bot.form.sweep(), b.bot.form.sweep())
    await fake_api.wait_for(lambda api: any("Quá 10 phút" in t for t in api.texts(GROUP)))
    assert sum(claimed) <= 1  # 0 when a background sweep got there first
    assert await a.bot.form.sweep() == 0
    assert await b.bot.form.sweep() == 0
    assert sum("Quá 10 phút" in t for t in fake_api.texts(GROUP)) == 1
    before = len(fake_api.texts(GROUP))
    assert await b.post(update(text_update(GROUP, LAN, "6352", reply_to_bot=True))) == 200
    assert not any("(2/5)" in t for t in fake_api.texts(GROUP)[before:])  # not an answer


async def test_an_answer_after_the_timeout_is_told_so_before_any_sweep(
    workers: list[Worker], fake_api: FakeBotApi, clock: Clock
) -> None:
    a, b = workers
    assert await a.post(update(text_update(GROUP, LAN, "/baocao"))) == 200
    clock.now += timedelta(minutes=11)
    assert await b.post(update(text_update(GROUP, LAN, "6352", reply_to_bot=True))) == 200
    said = fake_api.texts(GROUP)
    assert sum("Quá 10 phút" in t for t in said) == 1
    assert not any("(2/5)" in t for t in said)  # not taken as an answer
    assert await stored(a.db, "binh_long") == []
