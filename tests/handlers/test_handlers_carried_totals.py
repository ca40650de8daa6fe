"""The same week's district total everywhere, or the reply says what differs: /tiendo and
/lichsu keep the last figures of units that have not reported yet (a running total never
falls when one is late), /xephang and /trangthai count this week's reports; the running
totals say how many units they carry (issue 14)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from core.pace import carried_units
from tests.conftest import SATURDAY, ChatBot

REPORT = (
    "/baocao\nĐã cấp CCCD: {cccd}\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.454\n"
    "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)
NOTE = "gồm số tuần trước của {n} đơn vị chưa báo cáo tuần này"


async def test_running_totals_say_how_many_units_they_carry(chat: ChatBot, tmp_path: Path) -> None:
    chat.engine.files_dir = tmp_path
    chat.at(SATURDAY - timedelta(days=7))  # week 46: both units report
    for officer in ("cb_binh_long", "cb_binh_thuan"):
        assert (await chat.send(officer, REPORT.format(cccd="6.300"))).startswith("✅")
    chat.at(SATURDAY)  # week 47: only Bình Long has reported so far
    assert (await chat.send("cb_binh_long", REPORT.format(cccd="6.352"))).startswith("✅")
    pace = await chat.send("lanh_dao", "/tiendo", chat="dm_lead", chat_type="private")
    assert NOTE.format(n=1) in pace
    history = await chat.send("lanh_dao", "/lichsu", chat="dm_lead", chat_type="private")
    assert NOTE.format(n=1) in history
    chart = await chat.send(
        "lanh_dao", "/bieudo Xác thực ĐDĐT tiendo", chat="dm_lead", chat_type="private"
    )
    assert NOTE.format(n=1) in chart
    ranking = await chat.send(
        "lanh_dao", "/bieudo Xác thực ĐDĐT", chat="dm_lead", chat_type="private"
    )
    assert "gồm số tuần trước" not in ranking  # the ranking counts this week's reports only
    # Once every unit of the window has reported, the totals agree and nothing is said.
    assert (await chat.send("cb_binh_thuan", REPORT.format(cccd="6.400"))).startswith("✅")
    pace = await chat.send("lanh_dao", "/tiendo", chat="dm_lead", chat_type="private")
    assert "gồm số tuần trước" not in pace


def test_carried_units_counts_only_units_missing_from_the_last_week() -> None:
    weeks = [
        (date(2024, 11, 11), {"a": {"x": 1}, "b": {"x": 1}}),
        (date(2024, 11, 18), {"a": {"x": 2}, "c": {"x": 5}}),
    ]
    assert carried_units(["a", "b", "c", "d"], weeks) == 1  # b; d never reported
    assert carried_units(["a", "b"], []) == 0
