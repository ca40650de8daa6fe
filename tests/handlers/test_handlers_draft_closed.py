"""The step-by-step form meets closing: a draft started while its week still took reports
and sent after the week closed is stored as a correction request, and the officer is told
so, exactly as a typed report sent then. `close = "digest"`: week 46 closes at its Monday
11:00 digest. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.catalogue import Catalogue
from handlers.drafts import Drafts
from handlers.engine import Engine
from storage import Database
from tests.conftest import ChatBot
from tests.handlers.test_handlers_closing import TZ, _corrections, _current
from tests.handlers.test_handlers_drafts import _message


async def test_a_draft_sent_after_its_week_closed_becomes_a_correction_request(
    db: Database, shipped_catalogue: Catalogue
) -> None:
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
