"""Leaders get the week and the indicator they asked for; first weeks say only what is known;
a late correction of an on-time report leaves the unit on time. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.chat import render_plain
from core.periods import Period
from handlers.digest import build_digest, digest_replies
from tests.conftest import ChatBot

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FRIDAY_46 = datetime(2024, 11, 8, 9, 0, tzinfo=TZ)
FRIDAY_45 = datetime(2024, 11, 1, 9, 0, tzinfo=TZ)
BODY = """Đã cấp CCCD: 7.082
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286
Đối tượng BTXH: 120
BTXH chi trả qua tài khoản: 60
Đối tượng NCC: 40
NCC chi trả qua tài khoản: 10"""


async def _week_46_only_by_binh_thuan(chat: ChatBot) -> None:
    saturday = chat.now
    chat.at(FRIDAY_46)
    assert "✅" in await chat.send("cb_binh_thuan", "/baocao\n" + BODY)
    chat.at(saturday)


@pytest.mark.parametrize(
    "args", ["46", "46/2024", "2024-W46", "tuần 46", "tuần trước", "tuan truoc", "Tuần Trước"]
)
async def test_status_of_the_week_asked_for(chat: ChatBot, args: str) -> None:
    await _week_46_only_by_binh_thuan(chat)
    answer = await chat.send("lanh_dao", f"/trangthai {args}")
    assert "📋 Tình hình báo cáo tuần 46/2024" in answer
    assert "Bình Thuận" in answer.split("Chưa báo cáo")[0]  # reported that week


async def test_status_without_a_week_is_the_current_one(chat: ChatBot) -> None:
    await _week_46_only_by_binh_thuan(chat)
    assert "📋 Tình hình báo cáo tuần 47/2024" in await chat.send("lanh_dao", "/trangthai")
    assert "📋 Tình hình báo cáo tuần 47/2024" in await chat.send("lanh_dao", "/trangthai tuần này")


@pytest.mark.parametrize("args", ["abc", "60", "46/2024 abc", "2024", "tuần", "0"])
async def test_status_argument_not_understood_gets_a_hint_not_the_current_week(
    chat: ChatBot, args: str
) -> None:
    answer = await chat.send("lanh_dao", f"/trangthai {args}")
    assert answer.startswith("Không hiểu tuần")
    assert "/trangthai 46/2024" in answer
    assert "Tình hình báo cáo" not in answer
    assert "\n" not in answer  # one line


async def test_ranking_with_indicator_and_week_together(chat: ChatBot) -> None:
    await _week_46_only_by_binh_thuan(chat)
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY.replace("4.454", "4.000"))
    for args in ("kich hoat 46/2024", "kích hoạt tuần 46", "46 kích hoạt", "kich hoat tuan truoc"):
        answer = await chat.send("lanh_dao", f"/xephang {args}")
        assert answer.startswith("📊 Tỉ lệ kích hoạt tài khoản định danh điện tử — tuần 46/2024")
        assert answer.count("📊") == 1
        assert "Bình Thuận" in answer
    this_week = await chat.send("lanh_dao", "/xephang kich hoat")
    assert "tuần 47/2024" in this_week


async def test_ranking_by_part_of_an_indicator_name(chat: ChatBot) -> None:
    await _week_46_only_by_binh_thuan(chat)
    # In private, the full table of every "chi trả" indicator, all for week 46.
    answer = await chat.send("lanh_dao", "/xephang chi tra 46", chat="dm_lead", chat_type="private")
    titles = [line for line in answer.splitlines() if line.startswith("📊")]
    assert len(titles) == 3
    assert all("chi trả" in t and "tuần 46/2024" in t for t in titles)
    # In the group, the same three as one overview message for week 46 (it fits a phone).
    replies = await chat.replies("lanh_dao", "/xephang chi tra 46")
    assert len(replies) == 1
    overview = await chat.send("lanh_dao", "/xephang chi tra 46")
    assert "46/2024" in overview.splitlines()[0]
    assert all(short in overview for short in ("Chi trả KDTM", "BTXH", "NCC"))


async def test_ranking_with_a_week_that_does_not_exist_gets_a_hint(chat: ChatBot) -> None:
    answer = await chat.send("lanh_dao", "/xephang kich hoat 60")
    assert answer.startswith("Không hiểu tuần")
    assert "/xephang 46" in answer


async def test_ranking_of_an_unknown_indicator_lists_them(chat: ChatBot) -> None:
    assert "Không có chỉ tiêu" in await chat.send("lanh_dao", "/xephang linh tinh")


@pytest.mark.parametrize("args", ["", " Xã Bình Long", " binh long"])
async def test_officers_see_their_own_units_history(chat: ChatBot, args: str) -> None:
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
    answer = await chat.send("cb_binh_long", f"/lichsu{args}", chat="cb_binh_long")
    assert "🗂 Lịch sử báo cáo — Xã Bình Long" in answer
    assert "47/2024" in answer


async def test_pace_from_too_few_reports_says_only_that(chat: ChatBot) -> None:
    saturday = chat.now
    chat.at(FRIDAY_46)
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
    chat.at(saturday)
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY.replace("4.454", "4.455"))
    for who in ("lanh_dao", "cb_binh_long"):
        answer = await chat.send(who, "/tiendo")
        assert "chưa đủ số liệu" in answer
        assert "sẽ không đạt" not in answer
        assert " 0/tuần" not in answer
        assert "tốc độ hiện tại" not in answer
        assert "dự kiến đạt" not in answer


async def test_digest_of_a_first_week_claims_no_missing_rise(chat: ChatBot) -> None:
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
    catalogue = chat.engine.catalogue
    week = Period(2024, 47)
    async with chat.engine.db.unit_of_work() as uow:
        digest = await build_digest(catalogue, uow, week, catalogue.calendar.due_at(week))
    text = "\n".join(render_plain(r.blocks) for r in digest_replies(catalogue, digest))
    assert "Chưa có đơn vị nào tăng tỉ lệ" not in text
    assert "Chưa có số liệu tuần trước để so sánh mức tăng" in text


async def test_digest_with_an_earlier_week_still_says_nobody_rose(chat: ChatBot) -> None:
    saturday = chat.now
    chat.at(FRIDAY_46)
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
    chat.at(saturday)
    lower = BODY.replace("7.082", "7.500").replace("898", "950")  # rates fall, none rises
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + lower)
    catalogue = chat.engine.catalogue
    week = Period(2024, 47)
    async with chat.engine.db.unit_of_work() as uow:
        digest = await build_digest(catalogue, uow, week, catalogue.calendar.due_at(week))
    text = "\n".join(render_plain(r.blocks) for r in digest_replies(catalogue, digest))
    assert "Chưa có đơn vị nào tăng tỉ lệ" in text


async def test_a_late_correction_of_an_on_time_report_stays_on_time(chat: ChatBot) -> None:
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
    monday_noon = datetime(2024, 11, 18, 12, 0, tzinfo=TZ)  # after the 10:00 due time
    chat.at(monday_noon)
    answer = await chat.send("cb_binh_long", "/baocao\n" + BODY.replace("5.014", "5.020"))
    assert "(cập nhật lần 1), đúng hạn." in answer
    async with chat.engine.db.unit_of_work() as uow:
        versions = await uow.submissions.versions("binh_long", "2024-W47")
    assert [(v.version, v.current, v.late) for v in versions] == [
        (1, False, False),
        (2, True, False),
    ]
    assert versions[1].sent_at == monday_noon  # the correction's own time is kept
    status = await chat.send("lanh_dao", "/trangthai")
    assert "✅ Đúng hạn (1): Bình Long" in status
    assert "⏰ Muộn (0)" in status


async def test_a_first_report_after_the_due_time_is_late(chat: ChatBot) -> None:
    chat.at(datetime(2024, 11, 18, 12, 0, tzinfo=TZ))
    assert "nộp muộn" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
