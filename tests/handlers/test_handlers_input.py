"""Reports as officers type them on a phone: each message of the table is either stored with
the values shown, refused with its reason (and nothing stored), or held for /xacnhan (and
nothing stored until then). Judged by what ends up in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.chat import Incoming, render_plain
from core.messages import TEMPLATE_INTRO
from tests.conftest import SATURDAY, ChatBot

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = "2024-W47"  # the fixture's clock: Saturday 16/11/2024, week 47 is being reported
LAST_WEEK = "2024-W46"
FRIDAY_WEEK_46 = datetime(2024, 11, 8, 9, 0, tzinfo=TZ)

BASE = {
    "citizen_id_issued": 7082,
    "eid_verified": 5014,
    "eid_activated": 4454,
    "child_6_14_total": 898,
    "child_6_14_issued": 286,
}
BODY = """Đã cấp CCCD: 7.082
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286"""
NON_CASH = """Đối tượng BTXH: 120
BTXH chi trả qua tài khoản: 60
Đối tượng NCC: 40
NCC chi trả qua tài khoản: 10"""
NON_CASH_VALUES = {"btxh_total": 120, "btxh_paid": 60, "ncc_total": 40, "ncc_paid": 10}


def body(**changes: str) -> str:
    """BODY with some figures replaced: body(citizen_id_issued="71.100")."""
    text = BODY
    for code, value in changes.items():
        old = {
            "citizen_id_issued": "Đã cấp CCCD: 7.082",
            "eid_verified": "Đã xác thực ĐDĐT: 5.014",
            "eid_activated": "Đã kích hoạt ĐDĐT: 4.454",
            "child_6_14_total": "Trẻ 6-14 tuổi: 898",
            "child_6_14_issued": "Đã cấp Căn cước 6-14 tuổi: 286",
        }[code]
        text = text.replace(old, old.split(":")[0] + ": " + value)
    return text


@dataclass(frozen=True)
class Stored:
    values: dict[str, int]
    period: str = WEEK
    unit: str = "binh_long"
    says: str = ""


@dataclass(frozen=True)
class Refused:
    reason: str
    # No corrected template: it could only pair one unit's name with another's figures.
    template: bool = True


@dataclass(frozen=True)
class Held:
    reason: str
    # After /xacnhan: what is stored (None: the case does not confirm).
    confirmed: Stored | None = None


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    outcome: Stored | Refused | Held
    sender: str = "cb_binh_long"
    # Reports stored before the case, each a (sender, text, moment) sent as is.
    before: tuple[tuple[str, str, datetime], ...] = field(default=())


WEEK_46 = (("cb_binh_long", "/baocao\n" + BODY, FRIDAY_WEEK_46),)

CASES = [
    # --- 1. two units' reports in one message; a field given twice -------------------------
    Case(
        "admin pastes two units' reports",
        "/baocao\nĐơn vị: Bình Long\n"
        + BODY
        + "\nĐơn vị: Bình Thuận\n"
        + body(eid_verified="5.100"),
        Refused("báo cáo của nhiều đơn vị (Xã Bình Long, Xã Bình Thuận)", template=False),
        sender="thuong_truc",
    ),
    Case(
        "officer pastes a neighbour's report under their own",
        "/baocao\n" + BODY + "\n\nXã Bình Thuận\n" + body(eid_verified="5.100"),
        Refused("không thể báo cáo cho Xã Bình Thuận", template=False),
    ),
    Case(
        "officer pastes their own and a neighbour's report, both named",
        "/baocao\nĐơn vị: Bình Long\n" + BODY + "\n\nĐơn vị: Bình Thuận\n" + BODY,
        Refused("báo cáo của nhiều đơn vị (Xã Bình Long, Xã Bình Thuận)", template=False),
    ),
    Case(
        "two /baocao in one message",
        "/baocao\n" + BODY + "\n/baocao\n" + body(eid_verified="5.100"),
        Refused("Tin nhắn có hai lệnh /baocao", template=False),
    ),
    Case(
        "unit header and unit line of the same unit",
        "/baocao\nXã Bình Long\nĐơn vị: Xã Bình Long\n" + BODY,
        Stored(BASE),
    ),
    Case(
        "a field given twice with different figures",
        "/baocao\n" + BODY + "\nĐã cấp CCCD: 7.092",
        Refused("Đã cấp CCCD được ghi hai lần với hai số khác nhau (7.082 và 7.092)"),
    ),
    # --- 2. a week line naming another week than the one being reported ------------------
    Case(
        "a copied week line corrects last week only after /xacnhan",
        "/baocao\nTuần: 46/2024\n" + body(eid_verified="5.020"),
        Held(
            "báo cáo này sửa số liệu tuần 46, không phải tuần 47",
            confirmed=Stored({**BASE, "eid_verified": 5020}, period=LAST_WEEK),
        ),
        before=WEEK_46,
    ),
    Case(
        "a past week nobody reported is held too",
        "/baocao\nTuần: 45/2024\n" + BODY,
        Held(
            "báo cáo này sửa số liệu tuần 45, không phải tuần 47",
            confirmed=Stored(BASE, period="2024-W45"),
        ),
    ),
    Case(
        "week line in another form (2024-W46) is held",
        "/baocao\n" + BODY + "\nKỳ báo cáo: 2024-W46",
        Held("tuần 46, không phải tuần 47"),
        before=WEEK_46,
    ),
    Case("the current week named is stored", "/baocao\nTuần: 47/2024\n" + BODY, Stored(BASE)),
    Case(
        "a future week is refused",
        "/baocao\nTuần: 49/2024\n" + BODY,
        Refused("Chưa đến tuần 49/2024; kỳ đang nhận báo cáo là tuần 47/2024."),
    ),
    # --- 3. magnitude slips against the unit's previous week ---------------------------------
    Case(
        "an extra zero after one week of history",
        "/baocao\n" + body(citizen_id_issued="71100"),
        Held(
            "Đã cấp CCCD: 71.100 gấp 10 lần tuần trước (7.082) — có gõ thừa số 0?",
            confirmed=Stored({**BASE, "citizen_id_issued": 71100}),
        ),
        before=WEEK_46,
    ),
    Case(
        "every figure ten times",
        "/baocao\n"
        + body(
            citizen_id_issued="70.820",
            eid_verified="50.140",
            eid_activated="44.540",
            child_6_14_total="8.980",
            child_6_14_issued="2.860",
        ),
        Held("Đã kích hoạt ĐDĐT: 44.540 gấp 10 lần tuần trước (4.454)"),
        before=WEEK_46,
    ),
    Case(
        "a missing zero",
        "/baocao\n" + body(child_6_14_total="89", child_6_14_issued="28"),
        Held("Trẻ 6-14 tuổi: 89 chỉ bằng 1/10 tuần trước (898) — có gõ thiếu số 0?"),
        before=WEEK_46,
    ),
    Case(
        "a fivefold figure is held",
        "/baocao\n" + body(citizen_id_issued="35.410"),
        Held("Đã cấp CCCD: 35.410 gấp 5 lần tuần trước (7.082)"),
        before=WEEK_46,
    ),
    Case(
        "a real fourfold rise is stored",
        "/baocao\n" + body(citizen_id_issued="28.328"),
        Stored({**BASE, "citizen_id_issued": 28328}),
        before=WEEK_46,
    ),
    Case(
        "a small count growing fivefold is stored",
        "/baocao\n" + BODY + "\n" + NON_CASH,
        Stored({**BASE, **NON_CASH_VALUES}),
        before=(
            (
                "cb_binh_long",
                "/baocao\n" + BODY + "\n" + NON_CASH.replace("khoản: 10", "khoản: 2"),
                FRIDAY_WEEK_46,
            ),
        ),
    ),
    Case(
        "no history: a tenfold figure is stored (nothing to compare with)",
        "/baocao\n" + body(citizen_id_issued="70.820"),
        Stored({**BASE, "citizen_id_issued": 70820}),
    ),
    Case(
        "no history: a numerator with an extra zero breaks its denominator",
        "/baocao\n" + body(child_6_14_issued="2.860"),
        Refused("số đạt (2.860) lớn hơn tổng số (898)"),
    ),
    # --- 4. an optional group left out that the unit gave before ---------------------------
    Case(
        "an optional group left out is carried from last week",
        "/baocao\n" + BODY,
        Stored({**BASE, **NON_CASH_VALUES}, says="giữ số tuần trước cho Chi trả KDTM"),
        before=(("cb_binh_long", "/baocao\n" + BODY + "\n" + NON_CASH, FRIDAY_WEEK_46),),
    ),
    Case(
        "half of an optional group left out: the missing half is carried",
        "/baocao\n" + BODY + "\nĐối tượng BTXH: 125\nBTXH chi trả qua tài khoản: 70",
        Stored(
            {**BASE, **NON_CASH_VALUES, "btxh_total": 125, "btxh_paid": 70},
            says="giữ số tuần trước cho NCC",
        ),
        before=(("cb_binh_long", "/baocao\n" + BODY + "\n" + NON_CASH, FRIDAY_WEEK_46),),
    ),
    Case(
        "a correction of this week leaving the group out keeps this week's figures",
        "/baocao\n" + body(eid_verified="5.020"),
        Stored(
            {**BASE, **NON_CASH_VALUES, "eid_verified": 5020},
            says="giữ số lần gửi trước cho Chi trả KDTM",
        ),
        before=(("cb_binh_long", "/baocao\n" + BODY + "\n" + NON_CASH, SATURDAY),),
    ),
    Case(
        "an optional group last given two weeks ago is carried and the week named",
        "/baocao\n" + BODY,
        Stored({**BASE, **NON_CASH_VALUES}, says="giữ số tuần 45 cho Chi trả KDTM"),
        before=(
            (
                "cb_binh_long",
                "/baocao\n" + BODY + "\n" + NON_CASH,
                datetime(2024, 11, 1, 9, 0, tzinfo=TZ),
            ),
        ),
    ),
    Case(
        "an optional group never reported is not invented",
        "/baocao\n" + BODY,
        Stored(BASE),
        before=WEEK_46,
    ),
    Case(
        "an optional group given in part with nothing to carry is refused",
        "/baocao\n" + BODY + "\nĐối tượng BTXH: 125",
        Refused("Chỉ tiêu “BTXH” cần thêm: BTXH chi trả qua tài khoản"),
        before=(("cb_binh_long", "/baocao\n" + BODY + "\n" + NON_CASH, FRIDAY_WEEK_46),),
    ),
    Case(
        "a field given twice with the same figure",
        "/baocao\n" + BODY + "\nĐã cấp CCCD: 7082",
        Stored(BASE),
    ),
]


async def _stored(chat: ChatBot, unit: str, period: str) -> dict[str, int] | None:
    async with chat.engine.db.unit_of_work() as uow:
        current = await uow.submissions.current(unit, period)
    return dict(current.values) if current else None


async def _all_reports(chat: ChatBot) -> list[tuple[str, str, int]]:
    async with chat.engine.db.unit_of_work() as uow:
        found = []
        for period in await uow.submissions.periods_with_reports(10):
            for unit in ("binh_long", "binh_thuan"):
                found += [
                    (unit, period, v.version) for v in await uow.submissions.versions(unit, period)
                ]
        return sorted(found)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_phone_style_message(chat: ChatBot, case: Case) -> None:
    saturday = chat.now
    for sender, text, moment in case.before:
        chat.at(moment)
        assert "✅" in await chat.send(sender, text)
    chat.at(saturday)
    before = await _all_reports(chat)
    answer = await chat.send(case.sender, case.text)
    outcome = case.outcome
    if isinstance(outcome, Stored):
        assert "✅" in answer, answer
        assert outcome.says in answer
        assert await _stored(chat, outcome.unit, outcome.period) == outcome.values
        return
    assert await _all_reports(chat) == before, answer  # nothing stored
    if isinstance(outcome, Refused):
        assert "CHƯA được nhận" in answer
        assert outcome.reason in answer
        assert (TEMPLATE_INTRO in answer) == outcome.template, answer
        return
    assert "CHƯA được lưu" in answer
    assert outcome.reason in answer
    if outcome.confirmed is not None:
        confirmed = await chat.send(case.sender, "/xacnhan")
        assert "✅" in confirmed, confirmed
        stored = outcome.confirmed
        assert await _stored(chat, stored.unit, stored.period) == stored.values


# --- 5. forwarded messages ----------------------------------------------------------------------


def _incoming(chat: ChatBot, user: str, text: str, where: str, **extra: Any) -> Incoming:
    return Incoming(
        platform="sim",
        chat_id=where,
        chat_type="private" if where == user else "group",
        user_id=user,
        user_name=user,
        text=text,
        sent_at=chat.now,
        message_id="1",
        **extra,
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("/baocao\n" + BODY, "nhom_bao_cao"),  # a forwarded command in the group
        (BODY, "cb_binh_long"),  # a forwarded report without the command in private
    ],
)
async def test_forwarded_report_is_refused_and_nothing_stored(
    chat: ChatBot, text: str, where: str
) -> None:
    message = _incoming(chat, "cb_binh_long", text, where, forwarded=True)
    answer = "\n".join(render_plain(r.blocks) for r in await chat.engine.handle(message))
    assert "❌ Báo cáo CHƯA được nhận" in answer
    assert "Tin nhắn chuyển tiếp không được nhận làm báo cáo" in answer
    assert TEMPLATE_INTRO not in answer  # nothing of the forwarded figures is sent back
    assert await _all_reports(chat) == []
    # The same text typed by the officer is their report.
    assert "✅" in await chat.send("cb_binh_long", text, chat=where)
    assert await _stored(chat, "binh_long", WEEK) == BASE


# --- 6. edited messages -------------------------------------------------------------------------


async def _edit(chat: ChatBot, text: str, edited_at: datetime, where: str = "nhom_bao_cao") -> str:
    message = _incoming(chat, "cb_binh_long", text, where, edited_at=edited_at)
    return "\n".join(render_plain(r.blocks) for r in await chat.engine.handle(message))


async def test_an_edited_report_is_a_correction(chat: ChatBot) -> None:
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + body(eid_verified="5.104"))
    # Edited on Monday after the due time: the report it corrects was on time.
    answer = await _edit(chat, "/baocao\n" + BODY, datetime(2024, 11, 18, 11, 0, tzinfo=TZ))
    assert (
        "✅ Báo cáo tuần 47/2024 của Xã Bình Long: đã cập nhật theo tin nhắn đã sửa "
        "(cập nhật lần 1), đúng hạn." in answer
    )
    assert "• Đã xác thực ĐDĐT: 5.104 → 5.014" in answer
    async with chat.engine.db.unit_of_work() as uow:
        versions = await uow.submissions.versions("binh_long", WEEK)
    assert [(v.version, v.current, v.late) for v in versions] == [
        (1, False, False),
        (2, True, False),
    ]
    assert versions[1].values == BASE


async def test_an_edited_report_is_validated_like_any(chat: ChatBot) -> None:
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
    answer = await _edit(chat, "/baocao\n" + body(eid_activated="5.500"), chat.now)
    assert "CHƯA được nhận" in answer
    assert "Đã kích hoạt ĐDĐT (5.500) không được lớn hơn Đã xác thực ĐDĐT (5.014)" in answer
    assert await _stored(chat, "binh_long", WEEK) == BASE


async def test_an_edit_made_once_the_next_week_is_open_is_held(chat: ChatBot) -> None:
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
    wednesday = datetime(2024, 11, 20, 11, 0, tzinfo=TZ)  # week 48 is being reported
    held = await _edit(chat, "/baocao\n" + body(eid_verified="5.020"), wednesday)
    assert "Tin nhắn đã sửa: báo cáo này sửa số liệu tuần 47, không phải tuần 48" in held
    assert await _stored(chat, "binh_long", WEEK) == BASE
    assert "✅" in await chat.send("cb_binh_long", "/xacnhan")
    assert await _stored(chat, "binh_long", WEEK) == {**BASE, "eid_verified": 5020}


async def test_edits_of_other_messages_are_ignored(chat: ChatBot) -> None:
    assert "✅" in await chat.send("cb_binh_long", "/baocao\n" + BODY)
    assert await _edit(chat, "/xephang", chat.now) == ""
    assert await _edit(chat, "/khongco", chat.now) == ""
    assert await _edit(chat, "chào cả nhà", chat.now, where="cb_binh_long") == ""
    # A report without the command in private, edited, is a correction too.
    fixed = await _edit(chat, body(eid_verified="5.020"), chat.now, where="cb_binh_long")
    assert "đã cập nhật theo tin nhắn đã sửa" in fixed
    assert await _stored(chat, "binh_long", WEEK) == {**BASE, "eid_verified": 5020}
