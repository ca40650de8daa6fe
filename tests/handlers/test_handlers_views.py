"""What leaders and officers see: status, ranking, pace, history, help."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _report(verified: int, activated: int, issued: int = 6000, unit: str = "") -> str:
    head = f"/baocao\nĐơn vị: {unit}" if unit else "/baocao"
    return (
        f"{head}\nĐã cấp CCCD: {issued}\nĐã xác thực ĐDĐT: {verified}\n"
        f"Đã kích hoạt ĐDĐT: {activated}\nTrẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300"
    )


async def test_status_for_leader_lists_units_and_for_officer_only_their_own(chat) -> None:
    await chat.send("cb_binh_long", _report(4900, 4500))
    chat.at(datetime(2024, 11, 18, 11, 0, tzinfo=TZ))
    await chat.send("cb_binh_thuan", _report(4700, 4300))
    leader = await chat.send("lanh_dao", "/trangthai", chat="lanh_dao")
    assert "Đã báo cáo: 2/22 đơn vị (đúng hạn 1, muộn 1); chưa báo cáo: 20." in leader
    assert "✅ Đúng hạn (1): Bình Long" in leader
    assert "⏰ Muộn (1): Bình Thuận" in leader
    assert "❌ Chưa báo cáo (20): Bình An, Bình Chánh" in leader
    # Totals are the ratio of the sums: (4900 + 4700) / 12000.
    assert "Xác thực ĐDĐT   9.600/12.000  80,00%" in leader
    # In the group, read on a phone: no counts, every table line fits 34 characters.
    group = await chat.send("lanh_dao", "/trangthai")
    assert "Xác thực ĐDĐT   80,00%       80%" in group
    assert "9.600/12.000" not in group
    officer = await chat.send("cb_binh_chau", "/status")
    assert "Đơn vị của bạn — Xã Bình Châu: chưa báo cáo." in officer
    assert "Bình Long" not in officer
    assert "Bạn chưa được đăng ký" in await chat.send("nguoi_la", "/trangthai")


async def test_ranking_split_with_change_since_last_week(chat) -> None:
    last_week = "\nTuần: 46/2024"
    await chat.send("cb_binh_long", _report(4700, 4300).replace("/baocao", "/baocao" + last_week))
    await chat.send("cb_binh_long", "/xacnhan")  # a week other than the current one is held
    await chat.send("cb_binh_long", _report(4900, 4500))
    await chat.send("cb_binh_thuan", _report(4700, 4300))
    [answer] = await chat.replies("lanh_dao", "/xephang xac thuc", chat="lanh_dao")
    text = "\n".join(getattr(b, "plain", "") for b in answer.blocks)
    assert "Tỉ lệ xác thực định danh điện tử mức 2 — tuần 47/2024 (chỉ tiêu 80%" in text
    met, not_met = [b for b in answer.blocks if hasattr(b, "rows")]
    assert met.rows == (("1", "Bình Long", "4.900", "6.000", "81,67%", "91,84%", "+3,34"),)
    assert not_met.rows == (("1", "Bình Thuận", "4.700", "6.000", "78,33%", "91,49%", ""),)
    # The group gets rank, name, rate and change, and is told where the full table is.
    [answer] = await chat.replies("lanh_dao", "/xephang xac thuc")
    met, not_met = [b for b in answer.blocks if hasattr(b, "rows")]
    assert met.rows == (("1", "Bình Long", "81,67%", "+3,34"),)
    assert not_met.rows == (("1", "Bình Thuận", "78,33%", ""),)
    assert "nhắn riêng /xephang" in answer.blocks[-1].plain  # type: ignore[union-attr]
    officer = await chat.send("cb_binh_thuan", "/xephang xác thực")
    assert "Xã Bình Thuận: hạng 2/2, 78,33%, chưa đạt chỉ tiêu." in officer
    assert "Bình Long" not in officer
    unknown = await chat.send("lanh_dao", "/xephang bánh mì")
    assert "Không có chỉ tiêu “bánh mì”" in unknown


async def test_pace_shows_required_daily_rate_and_projection(chat) -> None:
    for week, verified in ((45, 4500), (46, 4550), (47, 4600)):
        text = _report(verified, 4000).replace("/baocao", f"/baocao\nTuần: {week}/2024")
        answer = await chat.send("cb_binh_long", text)
        if week != 47:  # a week other than the current one is held for /xacnhan
            answer = await chat.send("cb_binh_long", "/xacnhan")
        assert "✅" in answer
    chat.at(datetime(2024, 11, 18, 9, 0, tzinfo=TZ))
    answer = await chat.send("cb_binh_long", "/tiendo")
    # 80% of 6000 = 4800; 200 to go over 43 days; +50 a week reaches it in 4 weeks.
    assert "• Xác thực ĐDĐT: 76,67% / chỉ tiêu 80%" in answer
    assert "còn thiếu 200" in answer
    assert "hạn 31/12/2024, còn 43 ngày" in answer
    assert "cần 5/ngày (33/tuần)" in answer
    assert "tốc độ hiện tại: 50/tuần" in answer
    assert "dự kiến đạt: 16/12/2024" in answer
    leader = await chat.send("lanh_dao", "/tiendo")
    assert "Đơn vị có nguy cơ không đạt “Căn cước 6-14”" in leader
    assert "Bạn chưa được đăng ký" in await chat.send("nguoi_la", "/tiendo")
    assert "Chỉ lãnh đạo" in await chat.send("cb_binh_long", "/tiendo Bình Thuận")


async def test_history_lists_recent_weeks_with_late_marks(chat) -> None:
    await chat.send(
        "cb_binh_long", _report(4500, 4000).replace("/baocao", "/baocao\nTuần: 46/2024")
    )
    await chat.send("cb_binh_long", "/xacnhan")  # a week other than the current one is held
    await chat.send("cb_binh_long", _report(4600, 4100))
    answer = await chat.send("lanh_dao", "/lichsu Bình Long")
    assert "Lịch sử báo cáo — Xã Bình Long" in answer
    lines = answer.splitlines()
    # One narrow table per indicator: week, rate, change; the late weeks said once below.
    assert "46/2024  75,00%" in lines
    assert "47/2024  76,67%  +1,67" in lines
    assert "⏰ Nộp muộn: tuần 46/2024." in lines
    assert max(len(line) for line in lines if line.startswith(("4", "Tuần", "--"))) <= 34


async def test_help_depends_on_role(chat) -> None:
    stranger = await chat.send("nguoi_la", "/huongdan", chat="nguoi_la")
    assert "/dangky" in stranger
    assert "/xephang" not in stranger
    officer = await chat.send("cb_binh_long", "/help")
    assert "cán bộ báo cáo của Xã Bình Long" in officer
    assert "/baocao" in officer
    admin = await chat.send("thuong_truc", "/huongdan")
    assert "/duyet" in admin
