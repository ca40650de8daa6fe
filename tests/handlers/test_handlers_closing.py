"""Closing and approving a week (handlers/closing.py), on the shipped set-up where a week
closes at the end of its late window: a report for a closed week becomes a correction
request, an admin approves or refuses it with /duyet, a leader approves the week with
/pheduyet, and after that only an admin's /mokhoa lets a correction in. Judged by what is
stored, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document as WordDocument
from openpyxl import load_workbook
from sqlalchemy import func, select

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Document, Recipient, Reply, render_plain
from core.closing import closes_at, is_closed
from core.periods import Period
from core.schedule import Job, JobKind
from handlers.engine import Engine
from handlers.reminders import job_posts
from storage import Database
from storage.models import CorrectionRow, SubmissionRow, WeekApprovalRow
from storage.repositories import AuditEntry
from tests.conftest import ChatBot

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
W46, W47 = Period(2024, 46), Period(2024, 47)
# Sunday before week 46's due time (Monday 2024-11-11 10:00): the week is open.
BEFORE_46 = datetime(2024, 11, 10, 9, 0, tzinfo=TZ)
# Saturday of ISO week 46: week 46 closed on Wednesday 10:00, week 47 is being reported.
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
REPORT = """/baocao
Đã cấp CCCD: 6.352
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286"""
FOR_46 = REPORT.replace("/baocao", "/baocao\nTuần: 46/2024")
CORRECTED = FOR_46.replace("5.014", "5.025")
FIRST = {
    "citizen_id_issued": 6352,
    "eid_verified": 5014,
    "eid_activated": 4454,
    "child_6_14_total": 898,
    "child_6_14_issued": 286,
}


class Outbox:
    """A platform that takes every post (the officer hears the admin's decision)."""

    platform = "sim"

    def __init__(self) -> None:
        self.sent: list[tuple[Recipient, str]] = []

    async def post(self, to: Recipient, message: Reply) -> bool:
        self.sent.append((to, render_plain(message.blocks)))
        return True


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
async def office(
    db: Database, shipped_catalogue: Catalogue, outbox: Outbox, tmp_path: Path
) -> ChatBot:
    """The shipped set-up; Bình Long reported week 46 on time; now it is Saturday."""
    chat = ChatBot(Engine(shipped_catalogue, db, notifiers=[outbox], files_dir=tmp_path))
    chat.at(BEFORE_46)
    assert (await chat.send("cb_binh_long", REPORT)).startswith("✅ Đã nhận báo cáo tuần 46/2024")
    chat.at(SATURDAY)
    return chat


async def _current(chat: ChatBot, period: Period = W46) -> dict[str, int] | None:
    async with chat.engine.db.unit_of_work() as uow:
        found = await uow.submissions.current("binh_long", period.key)
    return None if found is None else dict(found.values)


async def _count(chat: ChatBot, column: object) -> int:
    async with chat.engine.db.engine.connect() as connection:
        return int((await connection.execute(select(func.count(column)))).scalar_one())


async def _corrections(chat: ChatBot) -> list[CorrectionRow]:
    async with chat.engine.db.engine.connect() as connection:
        rows = await connection.execute(select(CorrectionRow).order_by(CorrectionRow.id))
        return list(rows.all())  # type: ignore[arg-type]


async def _audit(chat: ChatBot) -> list[AuditEntry]:
    async with chat.engine.db.unit_of_work() as uow:
        return list(reversed(await uow.audit.recent(100)))


# --- when a week closes -------------------------------------------------------------------


def test_a_week_closes_at_the_end_of_its_late_window_by_default(
    shipped_catalogue: Catalogue,
) -> None:
    cal, schedule = shipped_catalogue.calendar, shipped_catalogue.schedule
    assert cal.close == "late_window"
    assert closes_at(cal, schedule, W46) == datetime(2024, 11, 13, 10, 0, tzinfo=TZ)
    assert not is_closed(cal, schedule, W46, datetime(2024, 11, 13, 9, 59, tzinfo=TZ))
    assert is_closed(cal, schedule, W46, datetime(2024, 11, 13, 10, 0, tzinfo=TZ))


def test_a_week_can_close_with_its_digest_or_never(shipped_catalogue: Catalogue) -> None:
    cal, schedule = shipped_catalogue.calendar, shipped_catalogue.schedule
    # The shipped digest posts on Monday 11:00, an hour after the due time.
    digest = replace(cal, close="digest")
    assert closes_at(digest, schedule, W46) == datetime(2024, 11, 11, 11, 0, tzinfo=TZ)
    assert closes_at(replace(cal, close="never"), schedule, W46) is None


async def test_a_late_report_within_the_late_window_is_still_stored(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    chat = ChatBot(Engine(shipped_catalogue, db))
    chat.at(datetime(2024, 11, 12, 9, 0, tzinfo=TZ))  # Tuesday, late for week 46
    answer = await chat.send("cb_binh_long", REPORT)
    assert answer.startswith("✅ Đã nhận báo cáo tuần 46/2024 của Xã Bình Long, nộp muộn")
    assert await _current(chat) == FIRST
    assert await _count(chat, CorrectionRow.id) == 0


async def test_with_close_digest_a_late_report_after_the_digest_becomes_a_request(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    calendar = replace(shipped_catalogue.calendar, close="digest")
    chat = ChatBot(Engine(replace(shipped_catalogue, calendar=calendar), db))
    chat.at(datetime(2024, 11, 11, 12, 0, tzinfo=TZ))  # Monday, after the 11:00 digest
    answer = await chat.send("cb_binh_long", REPORT)
    assert answer.startswith("⏳ Tuần 46/2024 đã khóa sổ")
    assert await _current(chat) is None
    assert await _count(chat, SubmissionRow.id) == 0
    assert [r.status for r in await _corrections(chat)] == ["pending"]


# --- correction requests ------------------------------------------------------------------


async def test_a_report_for_a_closed_week_becomes_a_request_and_stores_no_submission(
    office: ChatBot,
) -> None:
    answer = await office.send("cb_binh_long", CORRECTED)
    assert answer.startswith(msg.correction_waiting(1, "Xã Bình Long", "tuần 46/2024"))
    assert "• Đã xác thực ĐDĐT: 5.014 → 5.025" in answer
    assert await _current(office) == FIRST
    assert await _count(office, SubmissionRow.id) == 1
    [row] = await _corrections(office)
    assert (row.unit, row.period, row.status) == ("binh_long", "2024-W46", "pending")
    assert row.values == {**FIRST, "eid_verified": 5025}
    assert row.sender_id == "cb_binh_long"
    audit = await _audit(office)
    assert [e.action for e in audit] == ["report.create", "correction.request"]
    assert audit[-1].detail == {
        "correction": 1,
        "changes": [{"field": "eid_verified", "old": "5.014", "new": "5.025"}],
    }
    # The same figures again ask nothing.
    same = await office.send("cb_binh_long", FOR_46)
    assert same == msg.unchanged("Xã Bình Long", "tuần 46/2024")
    assert len(await _corrections(office)) == 1


async def test_an_admin_sees_old_and_new_beside_the_registrations(office: ChatBot) -> None:
    await office.send("cb_binh_long", CORRECTED)
    listing = await office.send("thuong_truc", "/duyet")
    assert "Không có yêu cầu đăng ký nào đang chờ duyệt." in listing
    assert "• DC1: Xã Bình Long, tuần 46/2024, gửi bởi Lê Thị Lan" in listing
    assert "    Đã xác thực ĐDĐT: 5.014 → 5.025" in listing
    assert msg.CORRECTIONS_FOOTER in listing


async def test_the_list_of_requests_stays_one_message(office: ChatBot) -> None:
    answers = []
    for n in range(12):
        office.at(office.now + timedelta(seconds=10))
        text = FOR_46.replace("6.352", str(7000 + n)).replace("5.014", str(5100 + n))
        answers.append(await office.send("cb_binh_long", text))
    assert all(a.startswith("⏳") for a in answers)
    listing = await office.send("thuong_truc", "/duyet")
    assert len(listing) <= 4096
    assert "• DC10: Xã Bình Long" in listing
    assert "• DC11:" not in listing
    assert "…và 2 yêu cầu điều chỉnh khác" in listing
    assert len(await _corrections(office)) == 12
    # The second request of the same sender says the first still waits.
    assert msg.correction_already_waiting([1]) in answers[1]


async def test_approval_changes_the_figures_marks_the_history_and_feeds_the_digest(
    office: ChatBot, outbox: Outbox, shipped_catalogue: Catalogue
) -> None:
    await office.send("cb_binh_long", CORRECTED)
    answer = await office.send("thuong_truc", "/duyet dc1")
    assert answer == msg.correction_approved(1, "Xã Bình Long", "tuần 46/2024", 2)
    assert await _current(office) == {**FIRST, "eid_verified": 5025}
    async with office.engine.db.unit_of_work() as uow:
        versions = await uow.submissions.versions("binh_long", W46.key)
    assert [(v.version, v.current, v.late) for v in versions] == [
        (1, False, False),
        (2, True, False),
    ]
    [row] = await _corrections(office)
    assert (row.status, row.version, row.decided_by) == ("approved", 2, "sim:thuong_truc")
    assert row.old_values == FIRST
    audit = await _audit(office)
    assert [e.action for e in audit][-1] == "correction.approved"
    assert audit[-1].detail == {"correction": 1, "version": 2}
    # The officer is told in private.
    [(to, text)] = outbox.sent
    assert to.ids == (("sim", "cb_binh_long"),)
    assert text.startswith("✅ Yêu cầu điều chỉnh DC1 (Xã Bình Long, tuần 46/2024) đã được")
    # Deciding it again finds nothing waiting.
    assert await office.send("thuong_truc", "/duyet dc1") == msg.correction_missing("1")

    # The next digest (week 47's, Monday 11:00) says so; the one after does not again.
    digest = await _digest(office, shipped_catalogue, W47, datetime(2024, 11, 18, 11, 0, tzinfo=TZ))
    assert "✏️ Số liệu tuần 46/2024 đã điều chỉnh: Bình Long Xác thực ĐDĐT 78,94% → 79,11%" in (
        digest
    )
    later = await _digest(
        office, shipped_catalogue, W47.next(), datetime(2024, 11, 25, 11, 0, tzinfo=TZ)
    )
    assert "đã điều chỉnh" not in later

    # The export's history marks the version the correction made, with who approved it.
    history = await _sheet(office, "/xuat xlsx 46/2024", "Lịch sử phiên bản")
    marks = [r[-1] for r in history[1:]]
    assert marks[0] in (None, "")
    assert (
        marks[1]
        == "Điều chỉnh DC1, Trần Văn Thường (Thường trực, Công an huyện) duyệt 09:00 16/11/2024"
    )


async def test_refusal_changes_nothing_and_the_officer_is_told(
    office: ChatBot, outbox: Outbox
) -> None:
    await office.send("cb_binh_long", CORRECTED)
    before = await _count(office, SubmissionRow.id)
    answer = await office.send("thuong_truc", "/duyet dc1 tuchoi")
    assert answer == msg.correction_rejected(1, "Xã Bình Long", "tuần 46/2024")
    assert await _current(office) == FIRST
    assert await _count(office, SubmissionRow.id) == before
    [row] = await _corrections(office)
    assert (row.status, row.version, row.old_values) == ("rejected", None, None)
    [(to, text)] = outbox.sent
    assert to.ids == (("sim", "cb_binh_long"),)
    assert text.startswith("❌ Yêu cầu điều chỉnh DC1")
    assert [e.action for e in await _audit(office)][-1] == "correction.rejected"


@pytest.mark.parametrize("number", ["dc99", "dcx", "dc", "dc" + "9" * 40])
async def test_an_unknown_correction_number_changes_nothing(office: ChatBot, number: str) -> None:
    await office.send("cb_binh_long", CORRECTED)
    answer = await office.send("thuong_truc", f"/duyet {number}")
    assert answer.startswith("Không có yêu cầu điều chỉnh số DC")
    assert [r.status for r in await _corrections(office)] == ["pending"]


async def test_only_admins_decide_corrections(office: ChatBot) -> None:
    await office.send("cb_binh_long", CORRECTED)
    for user in ("cb_binh_long", "lanh_dao"):
        assert await office.send(user, "/duyet dc1") == msg.ADMINS_ONLY
    assert [r.status for r in await _corrections(office)] == ["pending"]


async def test_a_report_held_before_the_close_and_confirmed_after_becomes_a_request(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    chat = ChatBot(Engine(shipped_catalogue, db))
    chat.at(BEFORE_46 - timedelta(days=7))  # week 45, on time
    await chat.send("cb_binh_long", REPORT)
    chat.at(datetime(2024, 11, 12, 9, 0, tzinfo=TZ))  # week 46's late window
    held = await chat.send("cb_binh_long", REPORT.replace("6.352", "6.300"))
    assert "/xacnhan" in held  # a cumulative figure below week 45's
    chat.at(SATURDAY)
    answer = await chat.send("cb_binh_long", "/xacnhan")
    assert answer.startswith("⏳ Tuần 46/2024 đã khóa sổ")
    assert await _current(chat) is None
    assert [r.values["citizen_id_issued"] for r in await _corrections(chat)] == [6300]
    assert await chat.send("cb_binh_long", "/xacnhan") == msg.NOTHING_TO_CONFIRM


# --- approving and reopening a week -------------------------------------------------------


async def test_approval_is_stored_and_exports_say_so(office: ChatBot) -> None:
    answer = await office.send("lanh_dao", "/pheduyet 46")
    assert answer.startswith(
        "✅ Đã phê duyệt số liệu tuần 46/2024 (Nguyễn Tường Duy (Tổ trưởng), 09:00 16/11/2024)"
    )
    async with office.engine.db.engine.connect() as connection:
        [row] = (await connection.execute(select(WeekApprovalRow))).all()
    assert (row.period, row.status, row.by) == ("2024-W46", "approved", "sim:lanh_dao")
    assert [e.action for e in await _audit(office)][-1] == "week.approved"
    stamp = "Đã phê duyệt: Nguyễn Tường Duy (Tổ trưởng), 09:00 16/11/2024"
    sheet = await _sheet(office, "/xuat xlsx 46/2024", "Xác thực ĐDĐT")
    assert stamp in sheet[1][0]
    (doc,) = _documents(await office.replies("lanh_dao", "/xuat docx 46/2024"))
    assert stamp in [p.text for p in WordDocument(str(doc.path)).paragraphs]
    # A week not approved says nothing of the kind.
    await office.send("cb_binh_long", REPORT)
    sheet = await _sheet(office, "/xuat xlsx 47/2024", "Xác thực ĐDĐT")
    assert "phê duyệt" not in sheet[1][0]
    # Approving twice stores nothing new.
    again = await office.send("lanh_dao", "/pheduyet 46")
    assert again.startswith("Tuần 46/2024 đã được phê duyệt trước đó")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("47", msg.approve_week_future("tuần 47/2024")),
        ("45", msg.approve_week_empty("tuần 45/2024")),
        ("abc", msg.approve_week_hint("abc")),
        ("46 47", msg.approve_week_hint("46 47")),
    ],
)
async def test_bad_approvals_change_nothing(office: ChatBot, args: str, expected: str) -> None:
    assert await office.send("lanh_dao", f"/pheduyet {args}") == expected
    assert await _count(office, WeekApprovalRow.period) == 0


async def test_after_approval_a_correction_waits_until_an_admin_reopens_the_week(
    office: ChatBot,
) -> None:
    await office.send("lanh_dao", "/pheduyet 46")
    await office.send("cb_binh_long", CORRECTED)
    listing = await office.send("thuong_truc", "/duyet")
    assert "tuần đã phê duyệt, cần /mokhoa trước" in listing
    refused = await office.send("thuong_truc", "/duyet dc1")
    assert refused == msg.correction_locked("tuần 46/2024", 46)
    assert await _current(office) == FIRST
    assert [r.status for r in await _corrections(office)] == ["pending"]
    # Reopening needs a reason, and an admin.
    assert await office.send("thuong_truc", "/mokhoa 46") == msg.reopen_hint("46")
    assert await office.send("lanh_dao", "/mokhoa 46 sửa số") == msg.ADMINS_ONLY
    assert await office.send("thuong_truc", "/mokhoa 45 sửa số") == msg.week_not_approved(
        "tuần 45/2024"
    )
    reopened = await office.send("thuong_truc", "/reopen 46 sửa số liệu theo công văn 123")
    assert reopened == msg.week_reopened("tuần 46/2024", "sửa số liệu theo công văn 123")
    async with office.engine.db.engine.connect() as connection:
        [row] = (await connection.execute(select(WeekApprovalRow))).all()
    assert (row.status, row.by, row.note) == (
        "reopened",
        "sim:thuong_truc",
        "sửa số liệu theo công văn 123",
    )
    entry = (await _audit(office))[-1]
    assert (entry.action, entry.actor, entry.period) == (
        "week.reopened",
        "sim:thuong_truc",
        "2024-W46",
    )
    assert entry.detail["reason"] == "sửa số liệu theo công văn 123"
    assert entry.detail["approved_by"] == "sim:lanh_dao"
    # Now the correction goes through, and the export no longer says approved.
    assert (await office.send("thuong_truc", "/duyet dc1")).startswith("✅ Đã duyệt điều chỉnh DC1")
    assert await _current(office) == {**FIRST, "eid_verified": 5025}
    sheet = await _sheet(office, "/xuat xlsx 46/2024", "Xác thực ĐDĐT")
    assert "phê duyệt" not in sheet[1][0]


async def test_an_approved_week_takes_no_direct_report_even_before_it_closes(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    chat = ChatBot(Engine(shipped_catalogue, db))
    chat.at(BEFORE_46)
    await chat.send("cb_binh_long", REPORT)
    chat.at(datetime(2024, 11, 12, 9, 0, tzinfo=TZ))  # Tuesday: week 46's late window
    assert (await chat.send("lanh_dao", "/pheduyet 46")).startswith("✅ Đã phê duyệt")
    answer = await chat.send("cb_binh_long", REPORT.replace("5.014", "5.025"))
    assert answer.startswith("⏳ Tuần 46/2024 đã khóa sổ")
    assert await _current(chat) == FIRST


async def test_only_a_leader_approves_a_week(office: ChatBot) -> None:
    for user in ("cb_binh_long", "thuong_truc", "nguoi_la"):
        assert await office.send(user, "/pheduyet 46", "rieng") == msg.LEADER_APPROVES_ONLY
    assert await _count(office, WeekApprovalRow.period) == 0


async def test_a_leader_gets_an_approve_button_on_a_closed_weeks_status(office: ChatBot) -> None:
    [status] = await office.replies("lanh_dao", "/trangthai 46", "rieng")
    assert status.buttons[-1] == ("✅ Phê duyệt tuần 46", "/pheduyet 2024-W46")
    # Pressing it is the command typed by the presser.
    assert (await office.send("lanh_dao", "/pheduyet 2024-W46")).startswith("✅ Đã phê duyệt")
    [status] = await office.replies("lanh_dao", "/trangthai 46", "rieng")
    assert all(action != "/pheduyet 2024-W46" for _, action in status.buttons)
    assert "Đã phê duyệt: Nguyễn Tường Duy" in render_plain(status.blocks)
    # The current week is open: no button.
    [status] = await office.replies("lanh_dao", "/trangthai", "rieng")
    assert all(not action.startswith("/pheduyet") for _, action in status.buttons)


# --- helpers ------------------------------------------------------------------------------


def _documents(replies: list[Reply]) -> list[Document]:
    return [b for r in replies for b in r.blocks if isinstance(b, Document)]


async def _sheet(chat: ChatBot, command: str, title: str) -> list[tuple[object, ...]]:
    (doc,) = _documents(await chat.replies("lanh_dao", command, "rieng"))
    ws = load_workbook(io.BytesIO(doc.path.read_bytes()))[title]
    return list(ws.iter_rows(values_only=True))


async def _digest(chat: ChatBot, catalogue: Catalogue, period: Period, at: datetime) -> str:
    job = Job(at, JobKind.DIGEST, "nhom_bao_cao", period, "mon1100")
    posts = await job_posts(catalogue, chat.engine.db, job, at + timedelta(minutes=1))
    return "\n\n".join(render_plain(p.message.blocks) for p in posts)
