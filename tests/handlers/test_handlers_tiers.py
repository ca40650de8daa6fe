"""Tiers and the area's words through the real engine and storage (SQLite and PostgreSQL):
/xephang lists an indicator with tiers band by band with a mark, the digest counts the units
of each band, and the group's totals say "toàn huyện" (`[group] area = "huyện Bình Sơn"`)."""

from __future__ import annotations

from core.chat import render_plain
from tests.bot.test_phone_width import pages, pre_lines
from tests.conftest import ChatBot

# Activation rates: Bình An 96,91 % (from 90 %), Bình Long 88,83 % (80 % to below 90 %),
# Bình Châu 68,07 % (below 80 %); the first two are the 2024 letter's own figures.
REPORTS = {
    "cb_binh_long": (6352, 5014, 4454),
    "cb_binh_chau": (13112, 10284, 7000),
}


def _report(issued: int, verified: int, activated: int) -> str:
    return (
        f"/baocao\nĐã cấp CCCD: {issued}\nĐã xác thực ĐDĐT: {verified}\n"
        f"Đã kích hoạt ĐDĐT: {activated}\nTrẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300"
    )


async def _week(chat: ChatBot) -> None:
    for officer, figures in REPORTS.items():
        assert (await chat.send(officer, _report(*figures))).startswith("✅")
    # The standing office files Bình An's report for it.
    answer = await chat.send(
        "thuong_truc", _report(3002, 2559, 2480).replace("/baocao", "/baocao Bình An")
    )
    assert answer.startswith("✅"), answer


async def test_a_ranking_with_tiers_lists_the_bands(chat: ChatBot) -> None:
    await _week(chat)
    [group] = await chat.replies("lanh_dao", "/xephang kích hoạt")
    text = render_plain(group.blocks)
    assert "🟢 Đơn vị từ 90% (1)" in text
    assert "🟡 Đơn vị từ 80% đến dưới 90% (1)" in text
    assert "🔴 Đơn vị dưới 80% (1)" in text
    assert "Đơn vị đã hoàn thành chỉ tiêu" not in text
    order = [text.index(s) for s in ("Bình An", "Bình Long", "Bình Châu")]
    assert order == sorted(order)
    # Still a phone's width: the marks are in the section titles, not in the tables.
    lines = [line for page in pages(group) for line in pre_lines(page)]
    assert lines
    assert max(map(len, lines)) <= 34
    # An indicator without tiers keeps the letter's split.
    verified = await chat.send("lanh_dao", "/xephang xác thực")
    assert "Đơn vị đã hoàn thành chỉ tiêu (1)" in verified
    assert "Đơn vị chưa hoàn thành chỉ tiêu (2)" in verified
    assert "🟢" not in verified


async def test_the_private_ranking_too(chat: ChatBot) -> None:
    await _week(chat)
    answer = await chat.send("lanh_dao", "/xephang kích hoạt", "lanh_dao")
    assert "🟢 Đơn vị từ 90% (1)" in answer
    assert "🔴 Đơn vị dưới 80% (1)" in answer
    assert "96,91%" in answer
    assert "68,07%" in answer


async def test_the_overview_counts_the_units_of_each_band(chat: ChatBot) -> None:
    await _week(chat)
    overview = await chat.send("lanh_dao", "/xephang")
    assert "Theo mức: 🟢 từ 90%: 1 · 🟡 từ 80% đến dưới 90%: 1 · 🔴 dưới 80%: 1" in overview
    assert overview.count("Theo mức:") == 1  # only the indicator with tiers


async def test_the_group_totals_say_toan_huyen(chat: ChatBot) -> None:
    await _week(chat)
    status = await chat.send("lanh_dao", "/trangthai")
    assert "Tổng hợp toàn huyện đã báo cáo (tỉ lệ của tổng):" in status
    pace = await chat.send("lanh_dao", "/tiendo")
    assert "toàn huyện" in pace
    history = await chat.send("lanh_dao", "/lichsu")
    assert "toàn huyện" in history
    assert "toàn đơn vị" not in status + pace + history


async def test_an_officer_sees_the_band_of_the_own_unit(chat: ChatBot) -> None:
    await _week(chat)
    answer = await chat.send("cb_binh_long", "/xephang")
    assert (
        "Xã Bình Long: hạng 2/3, 88,83%, chưa đạt chỉ tiêu, mức 🟡 từ 80% đến dưới 90%." in answer
    )
    # An indicator without tiers says met or not, as before.
    assert "Xã Bình Long: hạng 2/3, 78,94%, chưa đạt chỉ tiêu." in answer
