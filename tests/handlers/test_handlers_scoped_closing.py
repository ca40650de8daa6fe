"""Where scoped chats meet the week's files and its approval: a province group's weekly
file and monthly draft hold only its units (their rows, versions and weeks), and a leader's
/pheduyet there says it approves the week for every unit of the set-up. On the shipped
set-up (weeks close), real SQLite and PostgreSQL (`db` fixture)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Attachment, Document, Incoming, Reply, render_plain
from core.periods import Period
from core.schedule import Job, JobKind
from handlers.closing import CORRECTED_SHOWN
from handlers.engine import Engine
from handlers.reminders import job_posts
from storage import Database
from tests.conftest import GROUP, ChatBot
from tests.handlers.test_handlers_imports import golden_sheet, xlsx
from tests.handlers.test_handlers_period_report import _texts
from tests.handlers.test_handlers_scoped import SCOPED, SUMMARY, _report, scoped_catalogue

__all__ = ["scoped_catalogue"]  # the fixture, shared with tests/handlers/test_handlers_scoped.py

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Saturday before week 46's due Monday (2024-11-11 10:00).
BEFORE_46 = datetime(2024, 11, 9, 9, 0, tzinfo=TZ)
# Saturday before week 47's due Monday (2024-11-18 10:00); week 46 closed on Wednesday.
BEFORE_47 = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
DECEMBER = datetime(2024, 12, 3, 9, 0, tzinfo=TZ)


def _documents(replies: list[Reply]) -> list[Document]:
    return [b for r in replies for b in r.blocks if isinstance(b, Document)]


async def _in_group(chat: ChatBot, user: str, text: str) -> list[Reply]:
    return await chat.replies(user, text, chat=SCOPED, chat_type="group")


async def test_a_scoped_group_s_weekly_file_holds_only_its_units_rows_and_versions(
    db: Database, scoped_catalogue: Catalogue, tmp_path: Path
) -> None:
    chat = ChatBot(Engine(scoped_catalogue, db, files_dir=tmp_path))
    chat.at(BEFORE_47)
    await chat.send("cb_chau_o", _report(5900, 5800))
    # Only a unit outside the scope reported: nothing of the group's to export.
    [answer] = await _in_group(chat, "lanh_dao", "/xuat xlsx 2024-W47")
    assert not _documents([answer])
    assert render_plain(answer.blocks) == msg.no_reports_yet(Period(2024, 47).label)
    await chat.send("cb_binh_long", _report(4900, 4500))
    await chat.send("cb_binh_long", _report(4910, 4500))
    [document] = _documents(await _in_group(chat, "lanh_dao", "/xuat xlsx 2024-W47"))
    book = load_workbook(io.BytesIO(document.path.read_bytes()))
    raw = [row[:2] for row in book["Số liệu gốc"].iter_rows(min_row=2, values_only=True)]
    assert raw == [("Xã Bình Long", "2024-W47")]
    versions = [row[:3] for row in book["Lịch sử phiên bản"].iter_rows(min_row=2, values_only=True)]
    assert versions == [("Xã Bình Long", "2024-W47", 1), ("Xã Bình Long", "2024-W47", 2)]
    # The whole set-up's file still lists both units.
    [whole] = _documents(await chat.replies("lanh_dao", "/xuat xlsx 2024-W47"))
    book = load_workbook(io.BytesIO(whole.path.read_bytes()))
    names = {row[0] for row in book["Số liệu gốc"].iter_rows(min_row=2, values_only=True)}
    assert names == {"Xã Bình Long", "Thị trấn Châu Ổ"}


async def test_a_scoped_group_s_monthly_draft_counts_only_its_units_weeks(
    db: Database, scoped_catalogue: Catalogue, tmp_path: Path
) -> None:
    chat = ChatBot(Engine(scoped_catalogue, db, files_dir=tmp_path))
    chat.at(BEFORE_46)
    await chat.send("cb_chau_o", _report(5800, 5700))
    chat.at(DECEMBER)
    # Only a unit outside the scope reported in November: no draft for the group.
    [answer] = await _in_group(chat, "lanh_dao", "/xuat docx thang 11/2024")
    assert not _documents([answer])
    text = render_plain(answer.blocks)
    assert text == msg.no_reports_in("tháng 11/2024")
    chat.at(BEFORE_47)
    await chat.send("cb_binh_long", _report(4900, 4500))
    chat.at(DECEMBER)
    [draft] = _documents(await _in_group(chat, "lanh_dao", "/xuat docx thang 11/2024"))
    # Week 47 is the one week the group's units reported in (week 46 was Châu Ổ's alone).
    assert "Chưa phê duyệt: cả 1 tuần trong kỳ chưa được lãnh đạo phê duyệt" in _texts(draft.path)


async def test_approving_a_week_in_a_scoped_group_says_it_is_the_whole_set_up_s(
    db: Database, scoped_catalogue: Catalogue, tmp_path: Path
) -> None:
    chat = ChatBot(Engine(scoped_catalogue, db, files_dir=tmp_path))
    chat.at(BEFORE_46)
    await chat.send("cb_binh_long", _report(4900, 4500))
    await chat.send("cb_chau_o", _report(5800, 5700))
    chat.at(BEFORE_47)
    [answer] = await _in_group(chat, "lanh_dao", "/pheduyet 46")
    text = render_plain(answer.blocks)
    assert text.startswith("✅ Đã phê duyệt số liệu tuần 46/2024")
    assert msg.approval_for_everyone(len(scoped_catalogue.units), "Cụm Bắc") in text
    # It is: a unit outside the group's scope can no longer change week 46 directly.
    assert "yêu cầu điều chỉnh" in await chat.send(
        "cb_chau_o", _report(5810, 5700).replace("/baocao", "/baocao\nTuần: 46/2024")
    )
    # An admin's /mokhoa there says the same; in the unscoped group neither says it.
    [reopened] = await _in_group(chat, "thuong_truc", "/mokhoa 46 sửa số liệu")
    said = render_plain(reopened.blocks)
    assert said.startswith("🔓 Đã mở khóa tuần 46/2024")
    assert msg.approval_for_everyone(len(scoped_catalogue.units), "Cụm Bắc") in said
    whole = await chat.send("lanh_dao", "/pheduyet 46")
    assert whole.startswith("✅ Đã phê duyệt số liệu tuần 46/2024")
    assert "Cụm Bắc" not in whole


# --- the digests' lines about corrected weeks ------------------------------------------------

DIGEST_47 = datetime(2024, 11, 18, 11, 0, tzinfo=TZ)


async def _import(chat: ChatBot, rows: list[list[object]]) -> str:
    data = xlsx(rows)
    message = Incoming(
        platform="sim",
        chat_id="thuong_truc",
        chat_type="private",
        user_id="thuong_truc",
        user_name="thuong_truc",
        text="",
        sent_at=chat.now,
        attachment=Attachment("so_lieu.xlsx", len(data), data=data),
    )
    assert await chat.engine.handle(message)
    return await chat.send("thuong_truc", "/xacnhan", chat="thuong_truc")


def _bumped(rows: list[list[object]], label: str, by: int) -> list[list[object]]:
    column = rows[1].index(label)
    return [
        rows[0],
        rows[1],
        *([*r[:column], int(r[column]) + by, *r[column + 1 :]] for r in rows[2:]),  # type: ignore[call-overload]
    ]


async def _digest_of(chat: ChatBot, catalogue: Catalogue, key: str) -> str:
    job = Job(DIGEST_47, JobKind.DIGEST, key, Period(2024, 47), "mon1100")
    posts = await job_posts(catalogue, chat.engine.db, job, DIGEST_47 + timedelta(minutes=1))
    return "\n\n".join(render_plain(p.message.blocks) for p in posts)


async def test_every_digest_announces_a_national_correction_of_a_closed_week_briefly(
    db: Database, scoped_catalogue: Catalogue, tmp_path: Path
) -> None:
    """All 22 units' week 46 imported again after it closed: 22 approved corrections. The
    whole set-up's digest names a few units and counts the rest, the summary group's says
    it too, the scoped group's names only its own units."""
    chat = ChatBot(Engine(scoped_catalogue, db, files_dir=tmp_path))
    sheet = golden_sheet()
    chat.at(BEFORE_46)
    assert await _import(chat, sheet) == msg.import_stored(22, 0, 0, 0)
    chat.at(BEFORE_47)
    assert await _import(chat, _bumped(sheet, "Đã xác thực ĐDĐT", 7)) == msg.import_stored(
        0, 22, 0, 0
    )
    whole = await _digest_of(chat, scoped_catalogue, GROUP)
    [line] = [t for t in whole.split("\n") if "Số liệu tuần 46/2024 đã điều chỉnh" in t]
    named = [u.short_name for u in scoped_catalogue.units if f"{u.short_name} Xác thực" in line]
    assert len(named) == CORRECTED_SHOWN
    assert line.endswith(msg.and_more(22 - CORRECTED_SHOWN))
    summary = await _digest_of(chat, scoped_catalogue, SUMMARY)
    assert summary.count("Số liệu tuần 46/2024 đã điều chỉnh") == 1
    assert line in summary
    scoped = await _digest_of(chat, scoped_catalogue, SCOPED)
    [own] = [t for t in scoped.split("\n") if "Số liệu tuần 46/2024 đã điều chỉnh" in t]
    assert {u for u in ("Bình Long", "Bình Thuận", "Bình Châu") if f"{u} Xác thực" in own} == {
        "Bình Long",
        "Bình Thuận",
        "Bình Châu",
    }
    assert "Châu Ổ" not in own
    assert "đơn vị khác" not in own
