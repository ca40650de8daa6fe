"""Closing meets the older features: a form draft started while its week still took reports
and sent after the week closed is stored as a correction request (the officer told so,
exactly as a typed report sent then); a week a leader approved is final, so /nhacnho does
not ask units to report it and its /trangthai offers no nudge. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core import messages as msg
from core.catalogue import Catalogue
from handlers.drafts import Drafts
from handlers.engine import Engine
from storage import Database
from tests.conftest import ChatBot
from tests.handlers.test_handlers_closing import REPORT, TZ, Outbox, _corrections, _current
from tests.handlers.test_handlers_drafts import _message


async def test_a_draft_sent_after_its_week_closed_becomes_a_correction_request(
    db: Database, shipped_catalogue: Catalogue
) -> None:
    # `close = "digest"`: week 46 closes at its Monday 11:00 digest.
    calendar = replace(shipped_catalogue.calendar, close="digest")
    chat = ChatBot(Engine(replace(shipped_catalogue, calendar=calendar), db))
    drafts = Drafts(chat.engine)
    chat.at(datetime(2024, 11, 11, 10, 55, tzinfo=TZ))  # late for week 46, not yet closed
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, _ = started
    for answer in ("6352", "5014", "4454", "898", "286"):
        drafts.answer(draft, answer)
    chat.at(datetime(2024, 11, 11, 11, 5, tzinfo=TZ))  # sent after the 11:00 digest
    answer = await chat.send("cb_binh_long", drafts.report_text(draft))
    assert answer.startswith("⏳ Tuần 46/2024 đã khóa sổ: báo cáo của Xã Bình Long")
    assert await _current(chat) is None
    [request] = await _corrections(chat)
    assert (request.unit, request.period, request.status) == ("binh_long", "2024-W46", "pending")
    assert request.values["eid_verified"] == 5014


async def test_an_approved_week_is_not_nudged(db: Database, shipped_catalogue: Catalogue) -> None:
    outbox = Outbox()
    chat = ChatBot(Engine(shipped_catalogue, db, notifiers=[outbox]))
    chat.at(datetime(2024, 11, 10, 9, 0, tzinfo=TZ))  # before week 46's due Monday
    assert (await chat.send("cb_binh_long", REPORT)).startswith("✅ Đã nhận báo cáo tuần 46")
    chat.at(datetime(2024, 11, 16, 9, 0, tzinfo=TZ))  # Saturday: week 46 closed
    assert (await chat.send("lanh_dao", "/pheduyet 46")).startswith("✅ Đã phê duyệt")
    assert await chat.send("lanh_dao", "/nhacnho 2024-W46") == msg.nudge_approved("tuần 46/2024")
    assert outbox.sent == []
    async with db.unit_of_work() as uow:
        assert (
            await uow.nudges.recent(["binh_an", "binh_thuan"], chat.now.replace(year=2000)) == set()
        )
    # Its status offers no nudge button (nor an approve one: it is approved).
    [status] = await chat.replies("lanh_dao", "/trangthai 46")
    assert status.buttons == ()
    # An open week is still nudged.
    assert (await chat.send("lanh_dao", "/nhacnho")).startswith("Đã nhắc")
