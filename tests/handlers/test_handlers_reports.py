"""Receiving reports: acceptance, refusals that change nothing, versions, confirmations."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.messages import UNKNOWN_GROUP

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REPORT = """/baocao
Đã cấp CCCD: 6.352
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286"""


async def _versions(chat, unit: str = "binh_long", period: str = "2024-W47"):
    async with chat.engine.db.unit_of_work() as uow:
        return await uow.submissions.versions(unit, period)


async def test_officer_report_is_stored_and_acknowledged_with_rates(chat) -> None:
    answer = await chat.send("cb_binh_long", REPORT)
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long, đúng hạn." in answer
    assert "Xác thực ĐDĐT: 78,94% = 5.014/6.352 (chỉ tiêu 80%)" in answer
    [stored] = await _versions(chat)
    assert stored.values == {
        "citizen_id_issued": 6352,
        "eid_verified": 5014,
        "eid_activated": 4454,
        "child_6_14_total": 898,
        "child_6_14_issued": 286,
    }
    assert not stored.late
    assert stored.raw_text == REPORT


async def test_refused_report_names_the_problem_offers_a_template_and_stores_nothing(chat) -> None:
    text = REPORT.replace("Đã kích hoạt ĐDĐT", "Đã kích hoạ").replace("6.352", "6,35")
    answer = await chat.send("cb_binh_long", text)
    assert "❌ Báo cáo CHƯA được nhận" in answer
    assert "Không hiểu mục “Đã kích hoạ”. Có phải: Đã kích hoạt ĐDĐT" in answer
    assert "Đã cấp CCCD: “6,35” có thể hiểu theo hai cách" in answer
    assert "/baocao\nĐơn vị: Xã Bình Long\nĐã cấp CCCD: \nĐã xác thực ĐDĐT: 5.014" in answer
    assert await _versions(chat) == []


async def test_cross_field_rule_and_missing_fields_are_refused(chat) -> None:
    text = REPORT.replace("4.454", "5.500").replace("Trẻ 6-14 tuổi: 898\n", "")
    answer = await chat.send("cb_binh_long", text)
    assert "Đã kích hoạt ĐDĐT (5.500) không được lớn hơn Đã xác thực ĐDĐT (5.014)." in answer
    assert "Thiếu số liệu: Trẻ 6-14 tuổi." in answer
    assert await _versions(chat) == []


async def test_a_second_report_replaces_the_first_and_says_what_changed(chat) -> None:
    await chat.send("cb_binh_long", REPORT.replace("5.014", "5.000"))
    answer = await chat.send("cb_binh_long", REPORT)
    assert "(cập nhật lần 1)" in answer
    assert "• Đã xác thực ĐDĐT: 5.000 → 5.014" in answer
    again = await chat.send("cb_binh_long", REPORT)
    assert "không có gì thay đổi" in again
    versions = await _versions(chat)
    assert [(v.version, v.current, v.values["eid_verified"]) for v in versions] == [
        (1, False, 5000),
        (2, True, 5014),
    ]


async def test_officer_cannot_report_for_another_unit(chat) -> None:
    answer = await chat.send(
        "cb_binh_long", REPORT.replace("/baocao", "/baocao\nĐơn vị: Bình Thuận")
    )
    assert "Bạn chỉ được báo cáo cho Xã Bình Long, không thể báo cáo cho Xã Bình Thuận." in answer
    assert await _versions(chat, "binh_thuan") == []
    assert await _versions(chat, "binh_long") == []


async def test_stranger_is_refused_then_registers_and_is_approved(chat) -> None:
    refused = await chat.send("nguoi_moi", REPORT)
    assert "Bạn chưa được đăng ký" in refused
    assert "/dangky" in refused
    sent = await chat.send("nguoi_moi", "/dangky binh hai", chat="nguoi_moi")
    assert "Đã gửi yêu cầu đăng ký số 1" in sent
    assert "Xã Bình Hải" in sent
    assert "chỉ quản trị viên" in (await chat.send("lanh_dao", "/duyet 1")).casefold()
    listing = await chat.send("thuong_truc", "/duyet", chat="thuong_truc")
    assert "Số 1: nguoi_moi (sim nguoi_moi) — Xã Bình Hải" in listing
    approved = await chat.send("thuong_truc", "/duyet 1", chat="thuong_truc")
    assert "✅ Đã duyệt nguoi_moi làm cán bộ báo cáo của Xã Bình Hải." in approved
    accepted = await chat.send("nguoi_moi", REPORT)
    assert "của Xã Bình Hải, đúng hạn" in accepted
    assert len(await _versions(chat, "binh_hai")) == 1


async def test_lower_cumulative_figure_waits_for_confirmation(chat) -> None:
    await chat.send("cb_binh_long", REPORT.replace("/baocao", "/baocao\nTuần: 46/2024"))
    await chat.send("cb_binh_long", "/xacnhan")  # a week other than the current one is held
    lower = REPORT.replace("5.014", "5.010")
    held = await chat.send("cb_binh_long", lower)
    assert "⚠️ Báo cáo CHƯA được lưu" in held
    assert "Đã xác thực ĐDĐT: 5.010 thấp hơn số lũy kế tuần trước (5.014)." in held
    assert await _versions(chat) == []
    assert "Đã hủy" in await chat.send("cb_binh_long", "/huy")
    assert "Không có báo cáo nào đang chờ" in await chat.send("cb_binh_long", "/xacnhan")
    await chat.send("cb_binh_long", lower)
    confirmed = await chat.send("cb_binh_long", "/xacnhan")
    assert "✅ Đã nhận báo cáo tuần 47/2024" in confirmed
    [stored] = await _versions(chat)
    assert stored.values["eid_verified"] == 5010
    assert any("thấp hơn số lũy kế" in w for w in stored.warnings)


async def test_lateness_is_judged_by_the_message_timestamp(chat) -> None:
    chat.at(datetime(2024, 11, 18, 10, 30, tzinfo=TZ))
    answer = await chat.send("cb_binh_long", REPORT)
    assert "tuần 47/2024 của Xã Bình Long, nộp muộn." in answer
    [stored] = await _versions(chat)
    assert stored.late
    chat.at(datetime(2024, 11, 20, 10, 30, tzinfo=TZ))  # the late window has closed
    answer = await chat.send("cb_binh_thuan", REPORT)
    assert "tuần 48/2024 của Xã Bình Thuận, đúng hạn." in answer


async def test_named_past_period_and_future_period(chat) -> None:
    held = await chat.send("cb_binh_long", REPORT.replace("/baocao", "/baocao\nTuần: 45/2024"))
    assert "báo cáo này sửa số liệu tuần 45, không phải tuần 47" in held
    assert await _versions(chat, period="2024-W45") == []
    past = await chat.send("cb_binh_long", "/xacnhan")
    assert "tuần 45/2024 của Xã Bình Long, nộp muộn" in past
    future = await chat.send("cb_binh_long", REPORT.replace("/baocao", "/baocao\nTuần: 49/2024"))
    assert "Chưa đến tuần 49/2024; kỳ đang nhận báo cáo là tuần 47/2024." in future
    assert len(await _versions(chat, period="2024-W45")) == 1
    assert await _versions(chat, period="2024-W49") == []


async def test_names_differing_only_in_diacritics_are_never_guessed(chat) -> None:
    text = REPORT.replace("/baocao", "/baocao\nĐơn vị: Binh Thanh")
    answer = await chat.send("thuong_truc", text)
    assert "“Binh Thanh” có thể là: Xã Bình Thanh, Xã Bình Thạnh" in answer
    assert await _versions(chat, "binh_thanh") == []
    assert await _versions(chat, "binh_thanh_2") == []
    exact = await chat.send("thuong_truc", text.replace("Binh Thanh", "Bình Thạnh"))
    assert "của Xã Bình Thạnh" in exact


async def test_private_report_without_command_and_group_chatter_ignored(chat) -> None:
    body = REPORT.removeprefix("/baocao\n")
    answer = await chat.send("cb_binh_long", body, chat="cb_binh_long")
    assert "✅ Đã nhận báo cáo" in answer
    assert await chat.replies("cb_binh_thuan", body) == []  # a group message not for the bot
    assert await chat.replies("cb_binh_thuan", "chào cả nhà") == []


async def test_unconfigured_group_gets_a_refusal_and_no_figures(chat) -> None:
    await chat.send("cb_binh_long", REPORT)
    for command in ("/trangthai", "/xephang", "/tiendo", "/lichsu Bình Long", "/mau", REPORT):
        answer = await chat.send("thuong_truc", command, chat="nhom_la", chat_type="group")
        assert answer == UNKNOWN_GROUP  # the whole answer: no figure can leak


async def test_empty_report_command_returns_the_template(chat) -> None:
    await chat.send("cb_binh_long", REPORT)
    answer = await chat.send("cb_binh_long", "/baocao")
    assert "Mẫu báo cáo tuần 47/2024 — Xã Bình Long" in answer
    assert "Đã cấp CCCD: 6.352" in answer


async def test_command_with_bot_name_and_english_alias(chat) -> None:
    answer = await chat.send("cb_binh_long", REPORT.replace("/baocao", "/report@DeAn06Bot"))
    assert "✅ Đã nhận báo cáo" in answer
    assert "Bot không hiểu lệnh này" in await chat.send("cb_binh_long", "/khongco")


async def test_a_stored_correction_drops_the_report_waiting_for_confirmation(chat) -> None:
    await chat.send("cb_binh_long", REPORT.replace("/baocao", "/baocao\nTuần: 46/2024"))
    await chat.send("cb_binh_long", "/xacnhan")  # a week other than the current one is held
    held = await chat.send("cb_binh_long", REPORT.replace("5.014", "5.010"))
    assert "CHƯA được lưu" in held
    corrected = await chat.send("cb_binh_long", REPORT.replace("5.014", "5.020"))
    assert "✅ Đã nhận báo cáo tuần 47/2024" in corrected
    assert "Không có báo cáo nào đang chờ" in await chat.send("cb_binh_long", "/xacnhan")
    [stored] = await _versions(chat)
    assert stored.values["eid_verified"] == 5020


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("/bao cao\nA: 1", "A: 1"),
        ("/báo cáo\r\nA: 1", "A: 1"),
        ("/Báo_cáo@Bot Xã Bình Long\u2028A: 1", "Xã Bình Long\nA: 1"),
        ("Em gửi báo cáo ạ\n/baocao\nA: 1", "Em gửi báo cáo ạ\nA: 1"),
    ],
)
def test_the_report_command_however_typed_and_wherever_it_starts(text: str, args: str) -> None:
    from handlers.engine import split_command

    assert split_command(text) == ("baocao", args)


def test_only_the_report_command_may_start_a_later_line() -> None:
    from handlers.engine import split_command

    assert split_command("Em chào anh\n/xephang") is None
    assert split_command("Em gửi /baocao ạ") is None
