"""Importing the office's spreadsheets, judged by what is stored: the plain layout and the
bot's own export, a file with errors, a second import of the same file, and an admin's file
sent to the bot in a private chat (SQLite and PostgreSQL through the `db` fixture)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Attachment, Incoming, render_plain
from core.importing import ImportRefused
from core.periods import Period
from core.submission import Sender
from handlers import imports
from handlers.files import export_data, export_file
from storage import Database
from storage.models import AuditRow, PendingImportRow, SubmissionRow
from tests.handlers.test_handlers_golden import _reports

W46 = Period(2024, 46)
ADMIN = Sender("cli", "admin", "Quản trị")


def xlsx(rows: Sequence[Sequence[object]], title: str = "Sheet1") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def golden_sheet(heading: str = "BÁO CÁO TUẦN 46/2024") -> list[list[object]]:
    """The golden figures of all 22 units as an office keeps them: a heading, a header row of
    field labels, one row per unit (`TT` and `Ghi chú` are no fields)."""
    reports = _reports()
    labels = list(dict.fromkeys(label for values in reports.values() for label in values))
    rows: list[list[object]] = [[heading], ["TT", "Đơn vị", *labels, "Ghi chú"]]
    for n, (unit, values) in enumerate(reports.items(), start=1):
        rows.append([n, unit, *(values.get(label) for label in labels), ""])
    return rows


async def submission_rows(db: Database) -> int:
    async with db.unit_of_work() as uow:
        session = uow._require()
        return int(await session.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


async def run_import(
    db: Database,
    catalogue: Catalogue,
    data: bytes,
    period: Period | None = None,
    dry_run: bool = False,
) -> tuple[list[imports.RowPlan], str]:
    reading = imports.read_file(data, catalogue, "so_lieu.xlsx", period)
    now = datetime(2024, 11, 20, 8, 0, tzinfo=catalogue.calendar.tz)  # week 47 is reported
    async with db.unit_of_work() as uow:
        plans = await imports.plan(uow, catalogue, reading, now)
        if not dry_run:
            await imports.store(uow, catalogue, reading, plans, ADMIN, now)
            await uow.commit()
    return plans, "\n".join(imports.preview_lines(catalogue, reading, plans))


def statuses(plans: Sequence[imports.RowPlan]) -> dict[str, int]:
    return {k: v for k, v in imports.counts(plans).items() if v}


async def test_plain_sheet_is_stored_marked_as_imported_and_audited(
    db: Database, catalogue: Catalogue
) -> None:
    plans, preview = await run_import(db, catalogue, xlsx(golden_sheet()))
    assert statuses(plans) == {"new": 22}
    assert "22 dòng mới" in preview
    assert "Ghi chú" in preview  # the column that is no field is named as ignored
    golden = _reports()
    async with db.unit_of_work() as uow:
        stored = await uow.submissions.current_for_period(W46.key)
        versions = await uow.submissions.versions("binh_long", W46.key)
        audit = await uow._require().scalars(
            select(AuditRow).where(AuditRow.action.like("import%"))
        )
        actions = [a.action for a in audit]
    assert len(stored) == 22
    by_name = {catalogue.unit(s.unit).name: s for s in stored}
    for name, values in golden.items():
        labels = {catalogue.field(c).label: v for c, v in by_name[name].values.items()}
        assert labels == values
    (version,) = versions
    assert version.chat == imports.IMPORT_CHAT
    assert version.sender == ADMIN
    assert "so_lieu.xlsx" in version.raw_text
    assert "dòng" in version.raw_text
    assert actions.count("import.create") == 22
    assert actions.count("import") == 1


async def test_the_same_file_twice_changes_nothing(db: Database, catalogue: Catalogue) -> None:
    data = xlsx(golden_sheet())
    await run_import(db, catalogue, data)
    before = await submission_rows(db)
    plans, preview = await run_import(db, catalogue, data)
    assert statuses(plans) == {"unchanged": 22}
    assert "22 dòng không đổi" in preview
    assert await submission_rows(db) == before == 22


async def test_a_file_with_errors_names_row_and_column_and_dry_run_stores_nothing(
    db: Database, catalogue: Catalogue
) -> None:
    rows = golden_sheet()
    header = rows[1]
    issued = header.index("Đã cấp CCCD")
    verified = header.index("Đã xác thực ĐDĐT")
    rows[2][1] = "Xã Không Có"  # sheet row 3: an unknown unit
    rows[3][issued] = "nhiều"  # row 4: not a count
    rows[4][verified] = 999_999  # row 5: more verified than issued, a chat report's error
    plans, preview = await run_import(db, catalogue, xlsx(rows), dry_run=True)
    assert statuses(plans) == {"new": 19, "refused": 3}
    lines = preview.splitlines()
    assert any(line.startswith("⛔ Dòng 3, cột B (Đơn vị): ") for line in lines)
    assert any(line.startswith("⛔ Dòng 4, cột C (Đã cấp CCCD): ") for line in lines)
    refused5 = next(line for line in lines if line.startswith("⛔ Dòng 5"))
    assert "cột C, D" in refused5  # the rule names both fields, the columns follow
    assert any(line.startswith("➕ Dòng 6:") for line in lines)  # good rows still previewed
    assert await submission_rows(db) == 0


async def test_the_bot_s_own_export_is_read_back(
    chat, db: Database, catalogue: Catalogue, tmp_path: Path
) -> None:
    """Week 47 reported in the chat, exported with /xuat's writer, imported: nothing changes;
    a figure edited in the workbook is the one change, old → new."""
    for unit, values in _reports().items():
        body = "\n".join(f"{label}: {value}" for label, value in values.items())
        await chat.send("thuong_truc", f"/baocao\nĐơn vị: {unit}\n{body}")
    w47 = Period(2024, 47)
    async with db.unit_of_work() as uow:
        data = await export_data(uow, catalogue, w47)
    assert data is not None
    path = await export_file(catalogue, data, "xlsx", tmp_path / "w47.xlsx", w47.sunday)
    plans, _ = await run_import(db, catalogue, path.read_bytes())
    assert statuses(plans) == {"unchanged": 22}
    before = await submission_rows(db)

    wb = load_workbook(path)
    raw = wb["Số liệu gốc"]
    header = [c.value for c in raw[1]]
    row = next(r for r in raw.iter_rows(min_row=2) if r[0].value == "Xã Bình Long")
    cell = row[header.index("Đã cấp CCCD")]
    old = cell.value
    cell.value = old + 10
    buffer = io.BytesIO()
    wb.save(buffer)
    plans, preview = await run_import(db, catalogue, buffer.getvalue())
    assert statuses(plans) == {"changed": 1, "unchanged": 21}
    assert f"Đã cấp CCCD: {old:,} → {old + 10:,}".replace(",", ".") in preview
    assert await submission_rows(db) == before + 1
    async with db.unit_of_work() as uow:
        current = await uow.submissions.current("binh_long", w47.key)
    assert current is not None
    assert current.version == 2
    assert current.values["citizen_id_issued"] == old + 10


async def test_the_week_comes_from_the_sheet_or_the_period_option(
    db: Database, catalogue: Catalogue
) -> None:
    rows = golden_sheet(heading="Số liệu Đề án 06")
    with pytest.raises(ImportRefused) as refused:
        imports.read_file(xlsx(rows), catalogue, "x.xlsx")
    assert refused.value.text == msg.IMPORT_NO_PERIOD
    plans, _ = await run_import(db, catalogue, xlsx(rows), period=Period(2024, 40))
    assert statuses(plans) == {"new": 22}
    async with db.unit_of_work() as uow:
        assert len(await uow.submissions.current_for_period("2024-W40")) == 22
    # A sheet titled with its week needs no option.
    reading = imports.read_file(xlsx(rows, title="2024-W41"), catalogue, "x.xlsx")
    assert {r.period for r in reading.rows} == {"2024-W41"}


async def test_several_weeks_in_one_sheet_are_checked_in_week_order(
    db: Database, catalogue: Catalogue
) -> None:
    """A `Tuần` column: each week is checked against the weeks before it in the same file
    (a cumulative figure that fell is shown, not silently stored)."""
    rows: list[list[object]] = [
        [
            "Đơn vị",
            "Tuần",
            "Đã cấp CCCD",
            "Đã xác thực ĐDĐT",
            "Đã kích hoạt ĐDĐT",
            "Trẻ 6-14 tuổi",
            "Đã cấp Căn cước 6-14 tuổi",
        ]
    ]
    rows += [
        ["Xã Bình Long", "2024-W45", 1000, 800, 700, 300, 200],
        ["Xã Bình Long", "2024-W44", 990, 790, 690, 300, 190],
        ["Xã Bình Long", "2024-W46", 1010, 780, 700, 300, 210],
        ["Bình Long", "44/2024", 1, 1, 1, 1, 1],
    ]
    plans, preview = await run_import(db, catalogue, xlsx(rows), period=None)
    assert [p.status for p in plans] == ["new", "new", "new", "refused"]
    assert "đã có ở dòng 3" in preview
    assert plans[2].notes  # W46's verified fell from W45's 800 to 780
    async with db.unit_of_work() as uow:
        stored = {
            s.period: s.values["eid_verified"]
            for s in await uow.submissions.history("binh_long", "2024-W47", 10)
        }
    assert stored == {"2024-W44": 790, "2024-W45": 800, "2024-W46": 780}


async def test_a_week_not_yet_reported_is_refused(db: Database, catalogue: Catalogue) -> None:
    plans, preview = await run_import(db, catalogue, xlsx(golden_sheet("Tuần 48/2024")))
    assert statuses(plans) == {"refused": 22}
    assert "⛔ Dòng 3: Chưa đến tuần 48/2024; kỳ đang nhận báo cáo là tuần 47/2024." in preview
    assert await submission_rows(db) == 0


# --- an admin's file in a private chat -------------------------------------------------------


def upload(
    user: str, name: str, data: bytes, size: int | None = None, chat_type: str = "private"
) -> Incoming:
    return Incoming(
        platform="sim",
        chat_id=user if chat_type == "private" else "nhom_bao_cao",
        chat_type=chat_type,  # type: ignore[arg-type]
        user_id=user,
        user_name=user,
        text="",
        sent_at=datetime(2024, 11, 20, 1, 0, tzinfo=UTC),
        attachment=Attachment(name, len(data) if size is None else size, data=data),
    )


async def pending_imports(db: Database) -> int:
    async with db.unit_of_work() as uow:
        session = uow._require()
        return int(await session.scalar(select(func.count()).select_from(PendingImportRow)) or 0)


async def test_an_admin_s_file_is_previewed_then_stored_on_xacnhan(chat, db: Database) -> None:
    replies = await chat.engine.handle(upload("thuong_truc", "tuan46.xlsx", xlsx(golden_sheet())))
    text = "\n".join(render_plain(r.blocks) for r in replies)
    assert "22 dòng mới" in text
    # Read on a phone: the week's 22 new rows are one line, not 22.
    assert "➕ Tuần 46/2024: 22 đơn vị mới." in text
    assert "Dòng 2:" not in text
    assert len(text.splitlines()) < 8
    assert msg.IMPORT_CONFIRM_HINT in text
    assert await submission_rows(db) == 0
    assert await pending_imports(db) == 1
    answer = await chat.send("thuong_truc", "/xacnhan", chat="thuong_truc")
    assert answer == msg.import_stored(22, 0, 0, 0)
    assert await submission_rows(db) == 22
    assert await pending_imports(db) == 0
    # The same file again: a preview saying nothing changes, nothing held.
    replies = await chat.engine.handle(upload("thuong_truc", "tuan46.xlsx", xlsx(golden_sheet())))
    text = "\n".join(render_plain(r.blocks) for r in replies)
    assert "22 dòng không đổi" in text
    assert "= Tuần 46/2024: 22 đơn vị không đổi." in text
    assert msg.IMPORT_NOTHING_TO_STORE in text
    assert await pending_imports(db) == 0
    assert await chat.send("thuong_truc", "/xacnhan", chat="thuong_truc") == msg.NOTHING_TO_CONFIRM
    assert await submission_rows(db) == 22


async def test_huy_drops_the_waiting_import(chat, db: Database) -> None:
    await chat.engine.handle(upload("thuong_truc", "tuan46.xlsx", xlsx(golden_sheet())))
    assert await chat.send("thuong_truc", "/huy", chat="thuong_truc") == msg.IMPORT_CANCELLED
    assert await pending_imports(db) == 0
    assert await chat.send("thuong_truc", "/xacnhan", chat="thuong_truc") == msg.NOTHING_TO_CONFIRM
    assert await submission_rows(db) == 0


async def test_a_waiting_import_expires_after_an_hour(chat, db: Database) -> None:
    start = chat.now
    await chat.engine.handle(upload("thuong_truc", "tuan46.xlsx", xlsx(golden_sheet())))
    chat.at(start + imports.IMPORT_TTL + timedelta(minutes=1))
    assert await chat.send("thuong_truc", "/xacnhan", chat="thuong_truc") == msg.IMPORT_EXPIRED
    assert await submission_rows(db) == 0
    assert await pending_imports(db) == 0


@pytest.mark.parametrize(
    ("user", "name", "size", "answer"),
    [
        ("cb_binh_long", "tuan46.xlsx", None, msg.IMPORTS_ADMINS_ONLY),
        ("lanh_dao", "tuan46.xlsx", None, msg.IMPORTS_ADMINS_ONLY),
        ("thuong_truc", "tuan46.xlsx", 3 * 1024 * 1024, msg.import_too_large(2)),
        ("thuong_truc", "tuan46.csv", None, msg.IMPORT_NOT_XLSX),
    ],
)
async def test_files_that_are_not_imported(
    chat, db: Database, user: str, name: str, size: int | None, answer: str
) -> None:
    replies = await chat.engine.handle(upload(user, name, xlsx(golden_sheet()), size))
    assert "\n".join(render_plain(r.blocks) for r in replies) == answer
    assert await pending_imports(db) == 0
    assert await submission_rows(db) == 0


async def test_a_file_in_the_group_is_not_answered(chat, db: Database) -> None:
    message = upload("thuong_truc", "tuan46.xlsx", xlsx(golden_sheet()), chat_type="group")
    assert await chat.engine.handle(message) == []
    assert await pending_imports(db) == 0
