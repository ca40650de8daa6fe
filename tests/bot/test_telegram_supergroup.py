"""A configured group upgraded to a supergroup, over real HTTP to the fake Bot API: the new id is
recorded for the configured chat (the config keeps its id), what failed is sent again, and
commands in the new supergroup work at once."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.telegram.bot import TelegramBot
from core.chat import reply
from core.schedule import Job
from handlers.common import chat_recipient
from scheduler.jobs import planned, run_job
from storage import Database
from testing.fake_telegram import FakeBotApi, migrated, migration_updates, text_update
from tests.bot.test_telegram import GROUP, LEADER

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SUPERGROUP = -1009876543210
MONDAY = datetime(2024, 11, 18, 8, 5, tzinfo=TZ)


def digest_job(bot: TelegramBot) -> Job:
    start = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
    end = datetime(2024, 11, 18, 12, 0, tzinfo=TZ)
    [job] = [j for j in planned(bot.catalogue, start, end) if j.id.startswith("digest:")]
    return job


async def moves(db: Database) -> dict[tuple[str, str], str]:
    async with db.unit_of_work() as uow:
        return await uow.chat_moves.all()


async def status_in_supergroup(api: FakeBotApi) -> str:
    before = len(api.texts(SUPERGROUP))
    api.push(text_update(SUPERGROUP, LEADER, "/trangthai", date=MONDAY))
    await api.wait_for(lambda a: len(a.texts(SUPERGROUP)) > before)
    return api.texts(SUPERGROUP)[-1]


async def test_a_post_refused_with_migrate_to_chat_id_goes_to_the_supergroup(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    api.refuse(GROUP, migrated(SUPERGROUP))
    job = digest_job(bot)
    assert await run_job(bot.catalogue, db, [bot], job, job.at) >= 1
    assert any("TỔNG HỢP BÁO CÁO TUẦN 47/2024" in t for t in api.texts(SUPERGROUP))
    first = next(c for c in api.calls if c.method == "sendMessage")
    assert (int(first.params["chat_id"]), first.status) == (GROUP, 400)
    # Recorded for the configured chat; the config's id is as written.
    assert await moves(db) == {("telegram", "nhom_bao_cao"): str(SUPERGROUP)}
    chat = bot.catalogue.chat_by_key("nhom_bao_cao")
    assert chat is not None
    assert chat.ids["telegram"] == str(GROUP)
    async with db.unit_of_work() as uow:
        assert ("chat:nhom_bao_cao", "telegram") in await uow.posts.made(job.id)
    # The next post goes straight to the supergroup.
    calls = len(api.calls)
    await bot.post_many(chat_recipient(bot.catalogue, "nhom_bao_cao"), [reply("Tin sau")])
    assert [int(c.params["chat_id"]) for c in api.calls[calls:]] == [SUPERGROUP]
    # Commands in the supergroup work at once: a real status, not "group not configured".
    answer = await status_in_supergroup(api)
    assert "📋 Tình hình báo cáo tuần 47/2024" in answer


async def test_the_service_messages_record_the_move_before_any_post_fails(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    for update in migration_updates(GROUP, SUPERGROUP):
        api.push(update)
    await api.wait_for(lambda a: not a.updates)
    await _until_recorded(db)
    answer = await status_in_supergroup(api)
    assert "📋 Tình hình báo cáo tuần 47/2024" in answer
    job = digest_job(bot)
    assert await run_job(bot.catalogue, db, [bot], job, job.at) >= 1
    sends = [int(c.params["chat_id"]) for c in api.calls if c.method == "sendMessage"]
    assert GROUP not in sends


async def test_a_new_process_posts_to_the_recorded_id(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    async with db.unit_of_work() as uow:
        await uow.chat_moves.record("telegram", "nhom_bao_cao", str(GROUP), str(SUPERGROUP), MONDAY)
        await uow.commit()
    job = digest_job(bot)
    assert await run_job(bot.catalogue, db, [bot], job, job.at) >= 1
    sends = {int(c.params["chat_id"]) for c in api.calls if c.method == "sendMessage"}
    assert sends == {SUPERGROUP}


async def _until_recorded(db: Database) -> None:
    for _ in range(200):
        if await moves(db):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the move was not recorded")
