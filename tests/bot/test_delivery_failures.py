"""What a failed send means, over real HTTP to the fake Bot APIs: a post the platform refused
is never recorded as made, is sent when the job runs again, and /nhacnho tells the leader who
was really reached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from zalo_fake import GROUP_ID, BotFactory, FakeZalo

from bot.telegram.bot import TelegramBot
from core.catalogue import Catalogue
from core.schedule import Job
from scheduler.jobs import planned, run_job
from storage import Database
from testing.fake_telegram import KICKED, NEVER_STARTED, FakeBotApi, text_update
from tests.bot.test_telegram import ADMIN, GROUP, LAN, LEADER, THUAN, start_bot

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
MONDAY_MORNING = datetime(2024, 11, 18, 8, 5, tzinfo=TZ)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(api: FakeBotApi, db: Database) -> AsyncIterator[TelegramBot]:
    telegram = await start_bot(api, db)
    yield telegram
    await telegram.stop()


def digest_job(catalogue: Catalogue) -> Job:
    [job] = [
        j
        for j in planned(catalogue, SATURDAY, datetime(2024, 11, 18, 12, 0, tzinfo=TZ))
        if j.id.startswith("digest:")
    ]
    return job


async def recorded(db: Database, job_id: str) -> set[tuple[str, str]]:
    async with db.unit_of_work() as uow:
        return await uow.posts.made(job_id)


async def test_a_digest_refused_by_a_kicked_bot_is_not_recorded_and_goes_once_re_added(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    catalogue = bot.catalogue
    job = digest_job(catalogue)
    api.refuse(GROUP, KICKED)
    assert await run_job(catalogue, db, [bot], job, job.at) == 0
    assert await recorded(db, job.id) == set()
    assert api.texts(GROUP) == []
    assert [c.status for c in api.calls if c.method == "sendMessage"] == [403]
    # The bot is added back to the group: the job run again (a retry, a restart's catch-up)
    # posts the digest, and only then is it recorded.
    api.allow(GROUP)
    made = await run_job(catalogue, db, [bot], job, job.at)
    assert made >= 1
    assert any("TỔNG HỢP BÁO CÁO TUẦN 47/2024" in t for t in api.texts(GROUP))
    assert ("chat:nhom_bao_cao", "telegram") in await recorded(db, job.id)
    assert await run_job(catalogue, db, [bot], job, job.at) == 0


async def test_a_digest_zalo_refused_is_not_recorded_and_goes_on_the_next_run(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database
) -> None:
    bot = make_bot()
    catalogue = bot.engine.catalogue
    job = digest_job(catalogue)
    fake_zalo.refuse(GROUP_ID, 403, "Bot is not a member of this group")
    assert await run_job(catalogue, db, [bot], job, job.at) == 0
    assert await recorded(db, job.id) == set()
    fake_zalo.allow(GROUP_ID)
    assert await run_job(catalogue, db, [bot], job, job.at) >= 1
    assert any("TỔNG HỢP BÁO CÁO TUẦN 47/2024" in t for c, t in fake_zalo.sent if c == GROUP_ID)


async def test_nudge_names_the_officer_it_could_not_reach(
    api: FakeBotApi, bot: TelegramBot
) -> None:
    api.refuse(LAN, NEVER_STARTED)
    api.push(text_update(GROUP, LEADER, "/nhacnho", date=MONDAY_MORNING))
    await api.wait_for(lambda a: any("Không gửi được tới" in t for t in a.texts(GROUP)))
    [answer] = [t for t in api.texts(GROUP) if "Đã nhắc" in t]
    # The group post named every unit, so all were nudged; Lan's private message failed.
    assert "Đã nhắc 22 đơn vị" in answer
    assert "Không gửi được tới: Lê Thị Lan" in answer
    assert api.texts(THUAN)
    assert not api.texts(LAN)


async def test_nudge_with_the_bot_kicked_from_the_group_counts_only_who_was_reached(
    api: FakeBotApi, bot: TelegramBot
) -> None:
    api.refuse(GROUP, KICKED)
    api.push(text_update(LEADER, LEADER, "/nhacnho", date=MONDAY_MORNING))
    await api.wait_for(lambda a: bool(a.texts(LEADER)))
    [answer] = api.texts(LEADER)
    assert "Đã nhắc 22 đơn vị" not in answer
    assert "Đã nhắc 2 đơn vị: Bình Long, Bình Thuận." in answer
    assert "Chưa nhắc được 20 đơn vị" in answer
    assert "Không gửi được tới: NHÓM BÁO CÁO ĐỀ ÁN 06 HUYỆN BÌNH SƠN." in answer
    assert api.texts(LAN)
    assert api.texts(THUAN)
    assert not api.texts(ADMIN)
