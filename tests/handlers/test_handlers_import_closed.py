"""Imports meet closed weeks (issue 18): on the shipped set-up, where week 46 closed on
Wednesday 13 November, an admin's import is refused for an approved week, stored and
announced like an approved correction for a closed one, and stored plainly for an open week
or a closed week nobody had reported for. /lichsu marks the weeks changed after closing.
Judged by what is stored and what the digest says, on SQLite and PostgreSQL."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import messages as msg
from core.catalogue import Catalogue, build_catalogue
from core.chat import Attachment, Incoming, render_plain
from core.closing import IMPORT_CHAT
from core.schedule import Job, JobKind
from core.submission import Sender
from handlers import imports
from handlers.engine import Engine
from handlers.reminders import job_posts
from storage import Database
from storage.models import SubmissionRow
from tests.conftest import CONFIG_PATH, ChatBot
from tests.handlers.test_handlers_closing import (
    BEFORE_46,
    CORRECTED,
    FIRST,
    REPORT,
    SATURDAY,
    TZ,
    W46,
    W47,
    Outbox,
    _audit,
    _corrections,
    _current,
    _digest,
    _sheet,
)
from tests.handlers.test_handlers_imports import xlsx

HEADER = [
    "Đơn vị",
    "Tuần",
    "Đã cấp CCCD",
    "Đã xác thực ĐDĐT",
    "Đã kích hoạt ĐDĐT",
    "Trẻ 6-14 tuổi",
    "Đã cấp Căn cước 6-14 tuổi",
]
# Bình Long's week 46 as reported, with Xác thực ĐDĐT 5.014 -> 5.025 (78,94% -> 79,11%).
LONG_46 = ["Xã Bình Long", "2024-W46", 6352, 5025, 4454, 898, 286]
DIGEST_ITEM = "Bình Long Xác thực ĐDĐT 78,94% → 79,11%"
DIGEST_47 = datetime(2024, 11, 18, 11, 0, tzinfo=TZ)
DIGEST_48 = datetime(2024, 11, 25, 11, 0, tzinfo=TZ)


@pytest.fixture
async def office(db: Database, shipped_catalogue: Catalogue, tmp_path: Path) -> ChatBot:
    """The shipped set-up; Bình Long reported week 46 on time; now it is Saturday of week
    46 (closed since Wednesday) and week 47 is being reported."""
    chat = ChatBot(Engine(shipped_catalogue, db, notifiers=[Outbox()], files_dir=tmp_path))
    chat.at(BEFORE_46)
    assert (await chat.send("cb_binh_long", REPORT)).startswith("✅ Đã nhận báo cáo tuần 46/2024")
    chat.at(SATURDAY)
    return chat


async def _upload(chat: ChatBot, rows: list[list[object]], name: str = "so_lieu.xlsx") -> str:
    data = xlsx([HEADER, *rows])
    message = Incoming(
        platform="sim",
        chat_id="thuong_truc",
        chat_type="private",
        user_id="thuong_truc",
        user_name="thuong_truc",
        text="",
        sent_at=chat.now,
        attachment=Attachment(name, len(data), data=data),
    )
    replies = await chat.engine.handle(message)
    return "\n".join(render_plain(r.blocks) for r in replies)


async def _confirm(chat: ChatBot) -> str:
    return await chat.send("thuong_truc", "/xacnhan", chat="thuong_truc")


async def _submissions(chat: ChatBot) -> int:
    async with chat.engine.db.engine.connect() as connection:
        return int((await connection.execute(select(func.count(SubmissionRow.id)))).scalar_one())


async def test_an_import_into_an_approved_week_is_refused_and_stores_nothing(
    office: ChatBot,
) -> None:
    assert (await office.send("lanh_dao", "/pheduyet 46")).startswith("✅ Đã phê duyệt")
    before = await _submissions(office)
    locked = msg.import_week_approved("tuần 46/2024", "46/2024")
    assert "/mokhoa 46/2024 <lý do>" in locked
    # A change of a unit's figures is refused.
    preview = await _upload(office, [LONG_46])
    assert f"⛔ Dòng 2: {locked}" in preview
    assert msg.import_counts(0, 0, 0, 1) in preview
    assert msg.IMPORT_NOTHING_TO_STORE in preview
    # So is a unit's first figures; the same figures again change nothing and pass.
    preview = await _upload(
        office,
        [
            ["Xã Bình Long", "2024-W46", 6352, 5014, 4454, 898, 286],
            ["Xã Bình An", "2024-W46", 2966, 2469, 2333, 576, 302],
        ],
    )
    assert f"⛔ Dòng 3: {locked}" in preview
    assert msg.import_counts(0, 0, 1, 1) in preview
    assert msg.IMPORT_NOTHING_TO_STORE in preview
    assert await _confirm(office) == msg.NOTHING_TO_CONFIRM
    assert await _submissions(office) == before
    assert await _current(office) == FIRST
    assert await _corrections(office) == []

    # Reopened by an admin, the same file goes in as a correction.
    await office.send("thuong_truc", "/mokhoa 46 theo bảng của văn phòng", "rieng")
    preview = await _upload(office, [LONG_46])
    assert msg.import_counts(0, 1, 0, 0) in preview
    assert await _confirm(office) == msg.import_stored(0, 1, 0, 0)
    assert await _current(office) == {**FIRST, "eid_verified": 5025}


async def test_an_import_into_a_closed_week_is_stored_and_announced_once(
    office: ChatBot, shipped_catalogue: Catalogue
) -> None:
    rows: list[list[object]] = [
        LONG_46,  # closed week 46, Bình Long had reported: a correction
        ["Xã Bình Long", "2024-W47", 6400, 5100, 4500, 900, 290],  # open week 47: plain
        ["Xã Bình Long", "2024-W44", 6300, 4900, 4400, 890, 280],  # closed, nobody reported
    ]
    preview = await _upload(office, rows)
    assert msg.import_counts(2, 1, 0, 0) in preview
    assert msg.import_closed_weeks(1, ["tuần 46/2024"]) in preview
    assert "✏️ Dòng 2: Xã Bình Long, tuần 46/2024 (tuần đã khóa sổ): thay đổi:" in preview
    assert "➕ Dòng 3: Xã Bình Long, tuần 47/2024: mới." in preview
    assert "➕ Dòng 4: Xã Bình Long, tuần 44/2024: mới." in preview
    assert await _corrections(office) == []  # a preview stores nothing
    assert await _confirm(office) == msg.import_stored(2, 1, 0, 0)

    # Stored directly: Bình Long's week 46 is the imported version.
    assert await _current(office) == {**FIRST, "eid_verified": 5025}
    async with office.engine.db.unit_of_work() as uow:
        versions = await uow.submissions.versions("binh_long", W46.key)
    assert [(v.version, v.current, v.chat) for v in versions] == [
        (1, False, "nhom_bao_cao"),
        (2, True, IMPORT_CHAT),
    ]
    # Recorded as one approved correction of week 46, by the admin who imported it.
    [row] = await _corrections(office)
    assert (row.unit, row.period, row.status, row.chat) == (
        "binh_long",
        W46.key,
        "approved",
        "import",
    )
    assert (row.version, row.old_values, row.decided_by) == (2, FIRST, "sim:thuong_truc")
    assert row.values == {**FIRST, "eid_verified": 5025}
    audit = [e for e in await _audit(office) if e.action == "import.replace"]
    assert [e.detail["correction"] for e in audit] == [row.id]

    # The same file again changes nothing and records nothing.
    preview = await _upload(office, rows)
    assert msg.import_counts(0, 0, 3, 0) in preview
    assert len(await _corrections(office)) == 1

    # The next digest says it once; the one after does not.
    digest = await _digest(office, shipped_catalogue, W47, DIGEST_47)
    assert digest.count(DIGEST_ITEM) == 1
    assert f"✏️ Số liệu tuần 46/2024 đã điều chỉnh: {DIGEST_ITEM}" in digest
    assert "tuần 44/2024 đã điều chỉnh" not in digest
    assert "tuần 47/2024 đã điều chỉnh" not in digest
    later = await _digest(office, shipped_catalogue, W47.next(), DIGEST_48)
    assert "đã điều chỉnh" not in later

    # The export's history marks the imported version.
    history = await _sheet(office, "/xuat xlsx 46/2024", "Lịch sử phiên bản")
    marks = [r[-1] for r in history[1:]]
    assert marks[1] == (
        "Điều chỉnh DC1: nhập từ tệp sau khóa sổ, Trần Văn Thường (Thường trực, Công an "
        "huyện), 09:00 16/11/2024"
    )


async def test_the_cli_s_store_records_a_closed_week_the_same_way(
    office: ChatBot, shipped_catalogue: Catalogue
) -> None:
    """What `python -m bot import` runs (plan, preview, store) with its own sender."""
    reading = imports.read_file(xlsx([HEADER, LONG_46]), shipped_catalogue, "so_lieu.xlsx")
    by = Sender("cli", "root", "root")
    async with office.engine.db.unit_of_work() as uow:
        plans = await imports.plan(uow, shipped_catalogue, reading, office.now)
        preview = imports.preview_lines(shipped_catalogue, reading, plans)
        await imports.store(uow, shipped_catalogue, reading, plans, by, office.now)
        await uow.commit()
    assert msg.import_closed_weeks(1, ["tuần 46/2024"]) in preview
    [row] = await _corrections(office)
    assert (row.status, row.chat, row.decided_by, row.version) == (
        "approved",
        "import",
        "cli:root",
        2,
    )
    digest = await _digest(office, shipped_catalogue, W47, DIGEST_47)
    assert digest.count(DIGEST_ITEM) == 1


async def _history(chat: ChatBot, args: str = "Bình Long") -> str:
    return await chat.send("lanh_dao", f"/lichsu {args}".strip(), "rieng")


async def test_lichsu_marks_a_week_changed_after_closing(office: ChatBot) -> None:
    office.at(BEFORE_46)
    an = "/baocao\nĐơn vị: Xã Bình An\n" + REPORT.split("\n", 1)[1]
    assert "Đã nhận báo cáo tuần 46/2024" in await office.send("thuong_truc", an)
    office.at(SATURDAY)
    plain = await _history(office)
    assert "46/2024*" not in plain
    assert "điều chỉnh sau khi khóa sổ" not in plain
    # An approved correction marks week 46, for the unit and for the whole district.
    await office.send("cb_binh_long", CORRECTED)
    assert "46/2024*" not in await _history(office)  # only asked, not yet approved
    await office.send("thuong_truc", "/duyet dc1")
    legend = msg.adjusted_weeks(["46/2024"])
    for text in (await _history(office), await _history(office, "")):
        assert "46/2024*" in text
        assert legend in text
    # An officer sees the mark on their own unit's history; Bình An's week is not marked.
    assert legend in await office.send("cb_binh_long", "/lichsu", "rieng")
    other = await _history(office, "Bình An")
    assert "46/2024" in other
    assert "46/2024*" not in other
    assert legend not in other


async def test_lichsu_marks_an_import_into_a_closed_week_not_a_backfill(office: ChatBot) -> None:
    await _upload(
        office,
        [LONG_46, ["Xã Bình Long", "2024-W44", 6300, 4900, 4400, 890, 280]],
    )
    assert await _confirm(office) == msg.import_stored(1, 1, 0, 0)
    text = await _history(office)
    assert "46/2024*" in text
    assert "44/2024*" not in text
    assert "44/2024" in text
    assert msg.adjusted_weeks(["46/2024"]) in text


async def test_a_scoped_chat_s_digest_announces_only_its_units(
    db: Database, shipped_catalogue: Catalogue, tmp_path: Path
) -> None:
    """A group scoped to other communes than Bình Long is not told of its correction."""
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    for unit in data["units"]:
        if unit["code"] in ("binh_an", "binh_thuan"):
            unit["areas"] = ["Cụm Nam"]
    data["chats"]["cum_nam"] = {"title": "CỤM NAM", "areas": ["Cụm Nam"]}
    scoped = build_catalogue(data)
    chat = ChatBot(Engine(scoped, db, files_dir=tmp_path))
    chat.at(BEFORE_46)
    await chat.send("cb_binh_long", REPORT)
    chat.at(SATURDAY)
    await _upload(chat, [LONG_46])
    assert await _confirm(chat) == msg.import_stored(0, 1, 0, 0)
    assert DIGEST_ITEM in await _digest(chat, scoped, W47, DIGEST_47)
    job = Job(DIGEST_47, JobKind.DIGEST, "cum_nam", W47, "mon1100")
    posts = await job_posts(scoped, db, job, DIGEST_47 + timedelta(minutes=1))
    assert posts
    assert not any("đã điều chỉnh" in render_plain(p.message.blocks) for p in posts)
