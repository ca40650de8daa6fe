"""People who never pressed Start, over real HTTP to the fake Bot API: a refused private
reminder marks the person unreachable (stored), is not counted as sent, admins see them in
`/trangthai` in private with what to tell them, and a message that later goes through clears
the mark."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.telegram.bot import TelegramBot
from core.schedule import Job
from scheduler.jobs import planned, run_job
from storage import Database
from testing.fake_telegram import BLOCKED, NEVER_STARTED, FakeBotApi, text_update
from tests.bot.test_telegram import ADMIN, GROUP, LAN, LEADER, THUAN

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2024, 11, 18, 8, 5, tzinfo=TZ)
HEADER = "🚫 Bot chưa nhắn riêng được cho"


def last_call(bot: TelegramBot) -> Job:
    start = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
    end = datetime(2024, 11, 18, 10, 0, tzinfo=TZ)
    [job] = [j for j in planned(bot.catalogue, start, end) if j.id.startswith("lastcall:")]
    return job


async def ask(api: FakeBotApi, chat: int, user: int, text: str) -> str:
    before = len(api.texts(chat))
    api.push(text_update(chat, user, text, date=MONDAY))
    await api.wait_for(lambda a: len(a.texts(chat)) > before)
    return api.texts(chat)[-1]


async def test_a_person_who_never_pressed_start_is_listed_for_admins_until_reached(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    api.refuse(LAN, NEVER_STARTED)
    job = last_call(bot)
    made = await run_job(bot.catalogue, db, [bot], job, job.at)
    async with db.unit_of_work() as uow:
        recorded = {key for key, _ in await uow.posts.made(job.id)}
        [person] = await uow.unreachable.all()
    # The group and Thuận got it; Lan's reminder is not counted as sent.
    assert recorded == {"chat:nhom_bao_cao", "user:cb_binh_thuan"}
    assert made == 2
    assert api.texts(THUAN)
    assert (person.platform, person.user_id, person.person_key) == (
        "telegram",
        str(LAN),
        "cb_binh_long",
    )
    assert person.name == "Lê Thị Lan"
    assert "can't initiate conversation" in person.reason

    answer = await ask(api, ADMIN, ADMIN, "/trangthai")
    assert f"{HEADER} 1 người" in answer
    assert "• Lê Thị Lan (telegram)" in answer
    assert "mở bot và bấm Start" in answer
    # Not for a leader, and not in the group (names stay out of it).
    assert HEADER not in await ask(api, LEADER, LEADER, "/trangthai")
    assert HEADER not in await ask(api, GROUP, ADMIN, "/trangthai")

    # Lan pressed Start: the next reminder reaches her and the mark goes.
    api.allow(LAN)
    assert await run_job(bot.catalogue, db, [bot], job, job.at) == 1
    assert api.texts(LAN)
    async with db.unit_of_work() as uow:
        assert await uow.unreachable.all() == []
    assert HEADER not in await ask(api, ADMIN, ADMIN, "/trangthai")


async def test_a_person_who_blocked_the_bot_is_listed_and_a_group_refusal_is_not(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    api.refuse(THUAN, BLOCKED)
    api.refuse(GROUP, BLOCKED)  # a 403 to a group: the bot is out of it, no one to list
    job = last_call(bot)
    await run_job(bot.catalogue, db, [bot], job, job.at)
    async with db.unit_of_work() as uow:
        assert [(p.person_key, p.reason) for p in await uow.unreachable.all()] == [
            ("cb_binh_thuan", "Forbidden: bot was blocked by the user")
        ]
