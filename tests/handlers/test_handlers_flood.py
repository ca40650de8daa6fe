"""Per-sender flood limits (issue 15): a stranger gets at most one answer an hour, any sender
past `[limits] per_minute` one "slow down" and then silence; registration still works, and a
normal week never meets them (the engine's clock, both databases)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import messages as msg
from core.catalogue import Catalogue, FloodLimits
from core.chat import Incoming, render_plain
from handlers.engine import Engine
from handlers.flood import FALLBACK_S, FloodGuard, Pace, SharedFloodGuard
from storage import Database
from storage.models import SubmissionRow
from tests.conftest import GROUP, SATURDAY, ChatBot
from tests.outage import outage_switch
from tests.scratch_pg import postgres_url

REPORT = (
    "/baocao\nĐã cấp CCCD: 6.358\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.454\n"
    "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)
SLOW_DOWN = msg.slow_down(5)


async def _private(chat: ChatBot, user: str, text: str) -> list[str]:
    """What the bot answers a Telegram user (not in the config) in their private chat."""
    message = Incoming("telegram", user, "private", user, user, text, chat.now)
    return [render_plain(r.blocks) for r in await chat.engine.handle(message)]


async def _stored(db: Database) -> int:
    async with db.engine.connect() as connection:
        return int((await connection.execute(select(func.count(SubmissionRow.id)))).scalar_one())


async def test_a_strangers_130_messages_get_one_answer_an_hour(chat: ChatBot) -> None:
    texts = ["xin chào", "/trangthai", REPORT, "/lenhla", "/xephang"]
    answers = []
    for n in range(130):
        chat.at(chat.now + timedelta(seconds=20))  # 43 minutes of it
        answers += await _private(chat, "9001", texts[n % len(texts)])
    assert answers == [msg.UNKNOWN_COMMAND]
    chat.at(chat.now + timedelta(hours=1))
    assert await _private(chat, "9001", "/trangthai") == [msg.not_registered()]
    assert await _private(chat, "9001", "/trangthai") == []
    # Another stranger has their own hour.
    assert await _private(chat, "9002", "/trangthai") == [msg.not_registered()]


async def test_a_stranger_can_still_register_and_is_answered_once_approved(
    chat: ChatBot, db: Database
) -> None:
    assert await _private(chat, "9001", "xin chào") == [msg.UNKNOWN_COMMAND]
    # The answer says to type /huongdan: help and /dangky, the way in, are answered besides.
    [help_text] = await _private(chat, "9001", "/huongdan")
    assert "/dangky" in help_text
    [sent] = await _private(chat, "9001", "/dangky Xã Bình Long")
    found = re.search(r"đăng ký số (\d+)", sent)
    assert found, sent
    assert await _private(chat, "9001", REPORT) == []  # the hour's answer was "xin chào"'s
    approved = await chat.send("thuong_truc", f"/duyet {found.group(1)}", "rieng")
    assert approved.startswith("✅ Đã duyệt")
    # An officer now: answered and stored at once, within the same hour.
    [stored] = await _private(chat, "9001", REPORT)
    assert stored.startswith("✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long")
    assert await _stored(db) == 1


async def test_a_stranger_flooding_dangky_is_answered_within_the_registration_limit(
    chat: ChatBot, db: Database
) -> None:
    """/dangky gets `per_sender_per_day` + 2 answers a day (help aside: the requests and
    the refusals after them), then the hour's one answer, then nothing."""
    answers = []
    for _ in range(40):
        answers += await _private(chat, "9001", "/dangky Xã Bình Long")
        await chat.send("thuong_truc", "/duyet tuchoi tatca", "rieng")  # may ask again
    assert len(answers) == 3 + 2 + 1
    assert [a.startswith("Đã gửi yêu cầu") for a in answers[:3]] == [True] * 3
    assert answers[3:] == [msg.registration_sender_limit(3)] * 3
    async with db.unit_of_work() as uow:
        assert await uow.registrations.count_since(chat.now - timedelta(days=1)) == 3


async def test_a_fast_officer_is_told_once_then_silenced_until_the_pause_ends(
    chat: ChatBot, db: Database
) -> None:
    answers = [await chat.send("cb_binh_long", "/trangthai") for _ in range(20)]
    assert all("Tình hình báo cáo" in a for a in answers)
    assert await chat.send("cb_binh_long", "/trangthai") == SLOW_DOWN
    # Silence, even for a report: nothing answered, nothing stored (the officer was told).
    assert await chat.send("cb_binh_long", REPORT) == ""
    chat.at(chat.now + timedelta(minutes=4, seconds=59))
    assert await chat.send("cb_binh_long", REPORT) == ""
    assert await _stored(db) == 0
    # Others are not held back meanwhile.
    assert "Tình hình báo cáo" in await chat.send("cb_binh_thuan", "/trangthai")
    chat.at(chat.now + timedelta(seconds=1))
    assert (await chat.send("cb_binh_long", REPORT)).startswith("✅ Đã nhận báo cáo")
    assert await _stored(db) == 1


async def test_a_sender_who_keeps_on_is_not_told_again_within_the_hour(chat: ChatBot) -> None:
    said = []
    for _ in range(60):  # one a second for a minute
        chat.at(chat.now + timedelta(seconds=1))
        said.append(await chat.send("cb_binh_long", "/trangthai"))
    assert said.count(SLOW_DOWN) == 1
    assert sum("Tình hình báo cáo" in s for s in said) == 20
    # Five minutes later, still flooding: silent again, no second warning.
    chat.at(chat.now + timedelta(minutes=5))
    again = []
    for _ in range(30):
        again.append(await chat.send("cb_binh_long", "/trangthai"))
    assert SLOW_DOWN not in again
    assert sum("Tình hình báo cáo" in s for s in again) == 20
    # An hour after the warning, a new flood is told once more.
    chat.at(chat.now + timedelta(hours=1))
    later = [await chat.send("cb_binh_long", "/trangthai") for _ in range(25)]
    assert later.count(SLOW_DOWN) == 1


async def test_the_rate_and_pause_come_from_the_config(chat: ChatBot) -> None:
    chat.engine.catalogue = replace(
        chat.engine.catalogue, limits=FloodLimits(per_minute=3, pause=timedelta(minutes=2))
    )
    said = [await chat.send("lanh_dao", "/trangthai") for _ in range(5)]
    assert said[3:] == [msg.slow_down(2), ""]
    chat.at(chat.now + timedelta(minutes=2))
    assert "Tình hình báo cáo" in await chat.send("lanh_dao", "/trangthai")


async def test_admins_are_never_held_back(chat: ChatBot) -> None:
    said = [await chat.send("thuong_truc", "/trangthai") for _ in range(50)]
    assert all("Tình hình báo cáo" in s for s in said)


async def test_a_normal_week_never_meets_the_limits(chat: ChatBot, db: Database) -> None:
    """An officer's report, a correction, a confirmation and a few queries within a minute;
    leaders reading; chatter in the group (not answered, not counted)."""
    officer = [
        REPORT,
        REPORT.replace("6.358", "6.400"),
        "/trangthai",
        "/xephang",
        "/tiendo",
        "/lichsu",
        "/mau",
        "/huongdan",
        "/lenhla",
    ]
    for _ in range(30):
        assert await chat.send("cb_binh_long", "Dạ em gửi ngay ạ") == ""
    for text in officer:
        chat.at(chat.now + timedelta(seconds=5))
        answer = await chat.send("cb_binh_long", text)
        assert answer, text
        assert answer != SLOW_DOWN, text
        leader = await chat.send("lanh_dao", "/trangthai")
        assert "Tình hình báo cáo" in leader
    assert await _stored(db) == 2


async def test_a_flood_during_a_database_outage_is_silenced_without_the_database(
    catalogue: Catalogue,
) -> None:
    """The pace needs no database: with PostgreSQL gone, an unknown sender (who cannot be
    looked up) gets "busy" until the limit, then silence that costs no connection attempt.
    PostgreSQL only: SQLite's outage is a lock every read would wait busy_timeout for."""
    database_url = await postgres_url()
    await (await Database.open(database_url)).close()
    answers: list[str] = []
    async with outage_switch(database_url) as outage:
        db = await Database.open(outage.url)
        engine = Engine(catalogue, db, clock=lambda: SATURDAY)
        try:
            outage.stop()
            for _ in range(60):
                message = Incoming(
                    "telegram", "9001", "private", "9001", "9001", "/trangthai", SATURDAY
                )
                answers += [render_plain(r.blocks) for r in await engine.handle(message)]
        finally:
            await db.close()
    assert answers == [msg.BUSY] * 21


def test_memory_holds_a_bounded_number_of_senders() -> None:
    guard = FloodGuard(max_senders=2)
    limits = FloodLimits(per_minute=1)
    at = datetime(2024, 11, 16, 9, 0, tzinfo=UTC)
    assert guard.pace(("sim", "a"), at, limits) is Pace.ANSWER
    assert guard.pace(("sim", "a"), at, limits) is Pace.SLOW_DOWN
    guard.pace(("sim", "b"), at, limits)
    guard.pace(("sim", "c"), at, limits)  # "a", heard from longest ago, is forgotten
    assert guard.pace(("sim", "a"), at, limits) is Pace.ANSWER


async def test_two_workers_hold_one_sender_to_one_limit(
    catalogue: Catalogue, database_url: str, db: Database
) -> None:
    """Behind a balancer one officer's messages reach two workers in turn: on PostgreSQL the
    pace is counted in the database, so the officer gets `per_minute` answers, one "slow
    down" and then silence in all, not `per_minute` from each worker. (SQLite is one
    process: its pace is the process's own, as the other tests show.)"""
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share one PostgreSQL database; SQLite serves one process")
    workers = [Engine(catalogue, db, clock=lambda: SATURDAY) for _ in range(2)]
    assert all(w.shared_flood is not None for w in workers)
    said = []
    for n in range(40):
        message = Incoming("sim", GROUP, "group", "cb_binh_long", "Lan", "/trangthai", SATURDAY)
        said += [render_plain(r.blocks) for r in await workers[n % 2].handle(message)]
    assert len(said) == 21
    assert all("Tình hình báo cáo" in s for s in said[:20])
    assert said[20] == SLOW_DOWN
    # A stranger's one answer of the hour holds across the workers too.
    strangers = []
    for n in range(6):
        message = Incoming("telegram", "9001", "private", "9001", "9001", "xin chào", SATURDAY)
        strangers += [render_plain(r.blocks) for r in await workers[n % 2].handle(message)]
    assert strangers == [msg.UNKNOWN_COMMAND]


async def test_the_shared_pace_falls_back_to_memory_while_the_database_fails(
    catalogue: Catalogue,
) -> None:
    """The database gone, the worker counts in its own memory (a flood is still silenced)
    and tries the database again after `FALLBACK_S`."""
    database_url = await postgres_url()
    await (await Database.open(database_url)).close()
    async with outage_switch(database_url) as outage:
        db = await Database.open(outage.url)
        now = [0.0]
        try:
            guard = SharedFloodGuard(db, FloodGuard(), monotonic=lambda: now[0])
            limits = FloodLimits(per_minute=2)
            sender = ("telegram", "9001")
            assert await guard.pace(sender, SATURDAY, limits) is Pace.ANSWER  # memory only
            assert await guard.pace(sender, SATURDAY, limits) is Pace.ANSWER  # both in the db
            outage.stop()
            paces = [await guard.pace(sender, SATURDAY, limits) for _ in range(2)]
            assert paces == [Pace.SLOW_DOWN, Pace.SILENT]  # memory decided
            assert guard.local.pace(sender, SATURDAY, limits) is Pace.SILENT  # memory counted
            outage.resume()
            now[0] = FALLBACK_S - 1  # still the fallback's time: memory
            assert await guard.pace(sender, SATURDAY, limits) is Pace.SILENT
            now[0] = FALLBACK_S + 1  # the database again: its two and this one, over the limit
            assert await guard.pace(sender, SATURDAY, limits) is Pace.SLOW_DOWN
        finally:
            await db.close()
