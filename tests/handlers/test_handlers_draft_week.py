"""The step-by-step form keeps the week it was started for, on the shipped set-up (a week
closes at the end of its late window, Wednesday 10:00 for week 46): the draft is kept in the
database between answers as any worker would, and what it sends names its week, so a draft
started in week 46's late window and sent after that window closed is a correction request
for week 46, not an on-time report for week 47. Judged by what is stored, on SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from core.catalogue import Catalogue
from handlers.drafts import Draft, DraftKey, Drafts, Stage
from handlers.engine import Engine
from storage import Database
from storage.models import CorrectionRow, FormDraftRow, SubmissionRow
from tests.conftest import GROUP, ChatBot
from tests.handlers.test_handlers_closing import TZ
from tests.handlers.test_handlers_drafts import _message

ANSWERS = ("6352", "5014", "4454", "898", "286")
KEY = DraftKey("sim", GROUP, "cb_binh_long")
# Week 46 is due Monday 2024-11-11 10:00; its late window closes Wednesday 2024-11-13 10:00.
LATE_FOR_46 = datetime(2024, 11, 13, 9, 55, tzinfo=TZ)
AFTER_46_CLOSED = datetime(2024, 11, 13, 10, 5, tzinfo=TZ)


async def _fill_in(chat: ChatBot, drafts: Drafts, started_at: datetime, sent_at: datetime) -> str:
    """Start a draft at `started_at`, answer it through the database (as workers take turns),
    and send it at `sent_at`: the engine's answer."""
    chat.at(started_at)
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, _ = started
    assert await drafts.save(KEY, draft, chat.now)
    for answer in ANSWERS:
        loaded = await drafts.load(KEY)
        assert loaded is not None
        draft = loaded.copy()
        drafts.answer(draft, answer)
        assert await drafts.save(KEY, draft, chat.now)
    chat.at(sent_at)
    loaded = await drafts.load(KEY)
    assert loaded is not None
    assert loaded.stage is Stage.CONFIRM
    return await chat.send("cb_binh_long", drafts.report_text(loaded))


async def _stored(db: Database) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str]]]:
    """(unit, period, late) of every stored report; (period, status) of every correction."""
    async with db.engine.connect() as connection:
        reports = await connection.execute(
            select(SubmissionRow.unit, SubmissionRow.period, SubmissionRow.late)
        )
        requests = await connection.execute(select(CorrectionRow.period, CorrectionRow.status))
        return [tuple(r) for r in reports.all()], [tuple(r) for r in requests.all()]  # type: ignore[misc]


async def test_a_draft_started_late_and_sent_after_the_week_closed_is_a_correction_for_it(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    chat = ChatBot(Engine(shipped_catalogue, db))
    answer = await _fill_in(chat, Drafts(chat.engine), LATE_FOR_46, AFTER_46_CLOSED)
    assert answer.startswith("⏳ Tuần 46/2024 đã khóa sổ: báo cáo của Xã Bình Long")
    reports, requests = await _stored(db)
    assert reports == []  # neither week 46 nor week 47
    assert requests == [("2024-W46", "pending")]
    async with db.engine.connect() as connection:
        [values] = (await connection.execute(select(CorrectionRow.values))).scalars().all()
    assert values["eid_verified"] == 5014


async def test_a_draft_started_and_sent_in_the_late_window_is_stored_late_for_its_week(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    chat = ChatBot(Engine(shipped_catalogue, db))
    started = datetime(2024, 11, 11, 11, 0, tzinfo=TZ)  # Monday, an hour after the due time
    answer = await _fill_in(chat, Drafts(chat.engine), started, started + timedelta(minutes=5))
    assert "tuần 46/2024" in answer
    assert await _stored(db) == ([("binh_long", "2024-W46", True)], [])


async def test_a_draft_before_the_due_time_is_stored_on_time_as_before(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    chat = ChatBot(Engine(shipped_catalogue, db))
    started = datetime(2024, 11, 10, 9, 0, tzinfo=TZ)  # Sunday before week 46's due Monday
    answer = await _fill_in(chat, Drafts(chat.engine), started, started + timedelta(minutes=5))
    assert answer.startswith("✅ Đã nhận báo cáo tuần 46")
    assert await _stored(db) == ([("binh_long", "2024-W46", False)], [])


async def test_a_draft_stored_without_its_week_is_placed_when_sent(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    """A draft stored before drafts kept their week (`period` NULL) behaves as before: its
    report names no week and counts for the week it is sent in."""
    chat = ChatBot(Engine(shipped_catalogue, db))
    drafts = Drafts(chat.engine)
    chat.at(LATE_FOR_46)
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, _ = started
    for answer in ANSWERS:
        drafts.answer(draft, answer)
    assert await drafts.save(KEY, replace(draft, period=None), chat.now)
    async with db.engine.connect() as connection:
        assert (await connection.execute(select(FormDraftRow.period))).scalars().all() == [None]
    loaded = await drafts.load(KEY)
    assert isinstance(loaded, Draft)
    assert loaded.period is None
    assert "Tuần:" not in drafts.report_text(loaded)
    chat.at(AFTER_46_CLOSED)
    assert (await chat.send("cb_binh_long", drafts.report_text(loaded))).startswith(
        "✅ Đã nhận báo cáo tuần 47"
    )
    assert await _stored(db) == ([("binh_long", "2024-W47", False)], [])
