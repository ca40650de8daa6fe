"""The monthly draft says whether its weeks are final: “Đã phê duyệt” once a leader approved
every week reported in it, else which weeks are not approved yet (issue 18). Judged by the
Word file /xuat writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from core.catalogue import Catalogue
from core.periods import Period
from tests.conftest import ChatBot
from tests.handlers.test_handlers_period_report import (
    _documents,
    _figures,
    _report_week,
    _texts,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UNITS = ("Xã Bình Long", "Xã Bình An", "Xã Bình Thuận")


async def _month(chat: ChatBot) -> list[str]:
    (draft,) = _documents(await chat.replies("lanh_dao", "/xuat docx thang 11/2024", "rieng"))
    return _texts(draft.path)


async def test_the_monthly_draft_names_the_weeks_not_approved(
    chat: ChatBot, catalogue: Catalogue, tmp_path: Path
) -> None:
    chat.engine.files_dir = tmp_path
    # November's weeks 45 to 48 (due on the Mondays 4 to 25 November), three communes.
    for n, week in enumerate(range(45, 49)):
        figures = {u: v for u, v in _figures(2 * (3 - n)).items() if u in UNITS}
        await _report_week(chat, catalogue, Period(2024, week), figures)
    chat.at(datetime(2024, 12, 3, 9, 0, tzinfo=VN))
    texts = await _month(chat)
    assert "Chưa phê duyệt: cả 4 tuần trong kỳ chưa được lãnh đạo phê duyệt" in texts
    assert not any(t.startswith("Đã phê duyệt") for t in texts)

    for week in (45, 46, 48):
        answer = await chat.send("lanh_dao", f"/pheduyet {week}/2024", "rieng")
        assert answer.startswith("✅ Đã phê duyệt"), answer
    assert "Chưa phê duyệt: tuần 47 (1/4 tuần trong kỳ)" in await _month(chat)

    chat.at(datetime(2024, 12, 3, 9, 30, tzinfo=VN))
    assert (await chat.send("lanh_dao", "/pheduyet 47/2024", "rieng")).startswith("✅")
    texts = await _month(chat)
    assert (
        "Đã phê duyệt: số liệu cả 4 tuần trong kỳ "
        "(lần cuối: Nguyễn Tường Duy (Tổ trưởng), 09:30 03/12/2024)"
    ) in texts
    assert not any(t.startswith("Chưa phê duyệt") for t in texts)

    # An admin reopens week 46: the draft says so again.
    await chat.send("thuong_truc", "/mokhoa 46/2024 sửa số liệu Bình An", "rieng")
    assert "Chưa phê duyệt: tuần 46 (1/4 tuần trong kỳ)" in await _month(chat)
