"""`[[rules]]` severities end to end, judged by what is stored and what waits for /xacnhan:
an `error` refuses, a `confirm` holds, a `warning` stores and is said in the reply and the
digest. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest

from core.catalogue import build_catalogue
from core.chat import render_plain
from core.periods import Period
from core.submission import Submission
from handlers.digest import build_digest, digest_replies
from handlers.engine import Engine
from storage import Database
from tests.conftest import CONFIG_PATH, ChatBot

REPORT = """/baocao
Đã cấp CCCD: 6.352
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286
Đối tượng BTXH: 440
BTXH chi trả qua tài khoản: 401
Đối tượng NCC: 106
NCC chi trả qua tài khoản: 106"""
# The example: accounts at level 1 and level 2 must add up to the total.
LEVELS = "\nTK mức 1: 595\nTK mức 2: 6.854\nTổng TK: 7.494"


def _levels_config() -> dict[str, Any]:
    """The shipped set-up (its confirm and warning rules) plus three optional fields and the
    sum as an error."""
    data = tomllib.loads(CONFIG_PATH.read_text("utf-8"))
    data = copy.deepcopy(data)
    for code, label in (("level1", "TK mức 1"), ("level2", "TK mức 2"), ("accounts", "Tổng TK")):
        data["fields"].append({"code": code, "label": label, "required": False})
    data["rules"].append({"expr": "level1 + level2 = accounts"})
    return data


@pytest.fixture
def ruled(db: Database) -> ChatBot:
    return ChatBot(Engine(build_catalogue(_levels_config()), db))


async def _stored(chat: ChatBot, unit: str = "binh_long") -> list[Submission]:
    async with chat.engine.db.unit_of_work() as uow:
        return await uow.submissions.versions(unit, "2024-W47")


async def _pending(chat: ChatBot, user: str = "cb_binh_long") -> Any:
    async with chat.engine.db.unit_of_work() as uow:
        return await uow.pending.get("sim", user)


async def test_an_error_rule_refuses_with_the_figures_and_stores_nothing(ruled: ChatBot) -> None:
    answer = await ruled.send("cb_binh_long", REPORT + LEVELS)
    assert "❌ Báo cáo CHƯA được nhận" in answer
    assert "TK mức 1 (595) + TK mức 2 (6.854) = 7.449, không bằng Tổng TK (7.494)." in answer
    assert await _stored(ruled) == []
    assert await _pending(ruled) is None
    answer = await ruled.send("cb_binh_long", REPORT + LEVELS.replace("7.494", "7.449"))
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long" in answer
    [stored] = await _stored(ruled)
    assert stored.values["accounts"] == 7449


async def test_a_confirm_rule_holds_the_report_until_xacnhan(ruled: ChatBot) -> None:
    answer = await ruled.send("cb_binh_long", REPORT.replace("898", "3.952"))
    said = (
        "Số trẻ 6-14 tuổi quá cao so với số đã cấp CCCD, có gõ nhầm không? — "
        "Trẻ 6-14 tuổi (3.952) không được lớn hơn 0,3 × Đã cấp CCCD (6.352) = 1.905,6."
    )
    assert "⚠️ Báo cáo CHƯA được lưu vì:" in answer
    assert said in answer
    assert await _stored(ruled) == []
    pending = await _pending(ruled)
    assert pending.values["child_6_14_total"] == 3952
    assert said in pending.warnings
    answer = await ruled.send("cb_binh_long", "/xacnhan")
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long" in answer
    [stored] = await _stored(ruled)
    assert stored.values["child_6_14_total"] == 3952
    assert said in stored.warnings
    assert await _pending(ruled) is None


async def test_a_corrected_report_replaces_the_held_one(ruled: ChatBot) -> None:
    await ruled.send("cb_binh_long", REPORT.replace("898", "3.952"))
    answer = await ruled.send("cb_binh_long", REPORT)
    assert "✅ Đã nhận báo cáo" in answer
    [stored] = await _stored(ruled)
    assert stored.values["child_6_14_total"] == 898
    assert stored.warnings == ()
    assert await _pending(ruled) is None


async def test_a_warning_rule_stores_says_it_and_the_digest_lists_it(ruled: ChatBot) -> None:
    answer = await ruled.send("cb_binh_long", REPORT.replace("440", "2.440"))
    said = (
        "Tổng đối tượng BTXH và NCC cao bất thường so với số đã cấp CCCD — "
        "Đối tượng BTXH (2.440) + Đối tượng NCC (106) = 2.546, "
        "không được lớn hơn 0,3 × Đã cấp CCCD (6.352) = 1.905,6."
    )
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long" in answer
    assert "⚠️ Lưu ý:\n• " + said in answer
    [stored] = await _stored(ruled)
    assert stored.values["btxh_total"] == 2440
    assert stored.warnings == (said,)
    assert await _pending(ruled) is None
    text = await _digest(ruled)
    assert "⚠️ Số liệu cần xem lại (1 đơn vị):\n• Bình Long: " + said in text


async def test_the_digest_names_no_unit_when_no_warning_rule_is_broken(ruled: ChatBot) -> None:
    await ruled.send("cb_binh_long", REPORT)
    assert "Số liệu cần xem lại" not in await _digest(ruled)


async def test_the_digest_warning_list_stays_short(ruled: ChatBot) -> None:
    units = ["Bình An", "Bình Chánh", "Bình Châu", "Bình Chương", "Bình Dương", "Bình Hiệp"]
    units.append("Bình Hòa")
    for unit in units:
        body = REPORT.replace("/baocao", f"/baocao\nĐơn vị: {unit}").replace("440", "2.440")
        assert "⚠️ Lưu ý" in await ruled.send("thuong_truc", body, chat="thuong_truc")
    text = await _digest(ruled)
    block = text[text.index("⚠️ Số liệu cần xem lại (7 đơn vị):") :].splitlines()
    assert [line.split(":")[0] for line in block[1:6]] == [
        "• Bình An",
        "• Bình Chánh",
        "• Bình Châu",
        "• Bình Chương",
        "• Bình Dương",
    ]
    assert block[6] == "… và 2 đơn vị khác"


async def _digest(chat: ChatBot) -> str:
    catalogue = chat.engine.catalogue
    week = Period(2024, 47)
    async with chat.engine.db.unit_of_work() as uow:
        digest = await build_digest(catalogue, uow, week, catalogue.calendar.due_at(week))
    return "\n".join(render_plain(r.blocks) for r in digest_replies(catalogue, digest))
