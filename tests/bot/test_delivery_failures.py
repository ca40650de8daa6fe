"""What a failed send means, over real HTTP to the fake Bot APIs: a post the platform refused
is never recorded as made, is sent when the job runs again, and /nhacnho tells the leader who
was really reached; a scheduled post is retried within its grace window and the admins are
told once what never went out."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from zalo_fake import GROUP_ID, BotFactory, FakeZalo

from bot.telegram.bot import TelegramBot
from core.catalogue import Catalogue
from core.chat import Photo, Reply, Text
from core.schedule import Job
from handlers.outbox import RETRY_AFTER, backoff
from scheduler.jobs import planned, run_job
from scheduler.service import SchedulerHandle
from storage import Database
from testing.fake_telegram import KICKED, NEVER_STARTED, FakeBotApi, text_update
from tests.bot.test_telegram import ADMIN, GROUP, LAN, LEADER, THUAN

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
MONDAY_MORNING = datetime(2024, 11, 18, 8, 5, tzinfo=TZ)


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
    fake_zalo.refuse(GROUP_ID, 400, "Bot is not a member of this group")
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
    # The bot is back in the group: the units nobody heard of can be nudged at once, the two
    # reached ones wait for the hourly limit.
    api.allow(GROUP)
    api.push(text_update(LEADER, LEADER, "/nhacnho", date=MONDAY_MORNING + timedelta(minutes=5)))
    await api.wait_for(lambda a: len(a.texts(LEADER)) == 2)
    again = api.texts(LEADER)[1]
    assert "Đã nhắc 20 đơn vị" in again
    assert "chưa nhắc lại: Bình Long, Bình Thuận." in again
    assert any("20 đơn vị chưa gửi báo cáo" in t for t in api.texts(GROUP))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def scheduler_at(bot: TelegramBot, db: Database, clock: Clock) -> SchedulerHandle:
    handle = SchedulerHandle(bot.catalogue, db, [bot], clock=clock, realtime=False)
    await handle.start()  # takes the lead and runs the jobs due in the grace window
    return handle


GROUP_CHAT = "telegram:chat:nhom_bao_cao"  # the outbox's chat of the group on Telegram


def digests(api: FakeBotApi) -> list[str]:
    return [t for t in api.texts(GROUP) if "TỔNG HỢP BÁO CÁO TUẦN 47/2024" in t]


async def test_a_refused_scheduled_post_is_retried_within_its_grace_window(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    job = digest_job(bot.catalogue)
    api.refuse(GROUP, KICKED)
    clock = Clock(job.at)
    handle = await scheduler_at(bot, db, clock)
    try:
        assert digests(api) == []
        # The outbox keeps the refused post, backing off: 1 minute, then 2.
        assert await handle.retries() == {GROUP_CHAT: job.at + backoff(1)}
        clock.now = job.at + backoff(1)
        assert await handle.retry_due(clock.now) == 0  # still kicked: tried, refused
        assert await handle.retries() == {GROUP_CHAT: clock.now + backoff(2)}
        api.allow(GROUP)  # an admin adds the bot back
        assert await handle.retry_due(clock.now + backoff(2) - timedelta(seconds=1)) == 0
        clock.now += backoff(2)
        assert await handle.retry_due(clock.now) >= 1
        assert len(digests(api)) == 1
        assert await handle.retries() == {}
        assert await handle.retry_due(job.at + job_grace(bot)) == 0
    finally:
        await handle.stop()
    assert api.texts(ADMIN) == []  # delivered in the end: nothing to report


async def test_admins_are_told_once_what_was_not_delivered_when_the_window_closes(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    job = digest_job(bot.catalogue)
    api.refuse(GROUP, KICKED)
    clock = Clock(job.at)
    handle = await scheduler_at(bot, db, clock)
    try:
        tries = 1
        while GROUP_CHAT in (waiting := await handle.retries()):
            clock.now = waiting[GROUP_CHAT]
            assert clock.now <= job.at + job_grace(bot)
            await handle.retry_due(clock.now)
            tries += 1
        # 1, 2, 4, 5, 5 … minutes apart while the window is open.
        waits, attempt = timedelta(0), 1
        while waits + backoff(attempt) <= job_grace(bot):
            waits += backoff(attempt)
            attempt += 1
        assert tries == attempt
        assert digests(api) == []
        [notice] = api.texts(ADMIN)
        assert "Bot KHÔNG gửi được bản tổng hợp tuần tuần 47/2024" in notice
        assert "NHÓM BÁO CÁO ĐỀ ÁN 06 HUYỆN BÌNH SƠN (telegram)" in notice
        assert "bot was kicked from the group chat" in notice
        await handle.catch_up(clock.now)  # a later catch-up says nothing again
    finally:
        await handle.stop()
    # A second process, or a restart, does not tell the admins twice.
    again = await scheduler_at(bot, db, Clock(job.at + RETRY_AFTER))
    try:
        while waiting := await again.retries():
            await again.retry_due(min(waiting.values()))
    finally:
        await again.stop()
    assert len(api.texts(ADMIN)) == 1


def job_grace(bot: TelegramBot) -> timedelta:
    return bot.catalogue.schedule.grace


async def test_a_reply_page_refused_does_not_stop_the_rest_of_the_reply(
    api: FakeBotApi, bot: TelegramBot, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    api.fail("sendMessage", 400)
    answer = Reply((Text.of("Bảng xếp hạng"), Photo(chart, "Biểu đồ")))
    assert not await bot.send(LEADER, answer)  # an answer, not a post: logged, not raised
    assert [c.method for c in api.calls if c.params.get("chat_id") in (LEADER, str(LEADER))] == [
        "sendMessage",
        "sendPhoto",
    ]
    assert len(api.sent("sendPhoto")) == 1
