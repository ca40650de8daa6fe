"""The step-by-step report draft without any chat platform, on SQLite and PostgreSQL: who may
start one, which fields it asks with last week's figures, how answers are read, and that the
finished draft is stored like a typed report."""

from __future__ import annotations

from datetime import timedelta

from core import messages as msg
from core.chat import Incoming, render_plain
from core.numbers import format_int
from handlers.drafts import CONFIRM_ACTIONS, DraftKey, Drafts, Stage
from tests.conftest import GROUP, ChatBot

LAST_WEEK_WITH_BTXH = """/baocao
Đã cấp CCCD: 6.352
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286
Đối tượng BTXH: 440
BTXH chi trả qua tài khoản: 401
Đối tượng NCC: 106
NCC chi trả qua tài khoản: 106"""


def _message(chat: ChatBot, user: str, text: str = "/baocao", where: str = GROUP) -> Incoming:
    return Incoming(
        platform="sim",
        chat_id=where,
        chat_type="group" if where == GROUP else "private",
        user_id=user,
        user_name=user,
        text=text,
        sent_at=chat.now,
    )


async def test_an_officers_draft_asks_the_required_fields_of_their_own_unit(chat: ChatBot) -> None:
    drafts = Drafts(chat.engine)
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, prompt = started
    required = [f for f in chat.engine.catalogue.fields if f.required]
    assert draft.unit is not None
    assert draft.unit.code == "binh_long"
    assert [f.code for f in draft.fields] == [f.code for f in required]
    assert prompt.stage is Stage.FIELD
    assert prompt.text.startswith(msg.form_start(msg.form_heading("tuần 47/2024", "Xã Bình Long")))
    assert prompt.text.startswith("📝 Báo cáo tuần 47/2024 — Xã Bình Long.")
    assert f"(1/{len(required)})" in prompt.text


async def test_leaders_and_strangers_get_no_draft(chat: ChatBot) -> None:
    drafts = Drafts(chat.engine)
    assert await drafts.start(_message(chat, "lanh_dao")) is None
    assert await drafts.start(_message(chat, "nobody", where="nobody")) is None


async def test_an_admin_names_the_unit_first_and_a_wrong_name_is_asked_again(
    chat: ChatBot,
) -> None:
    drafts = Drafts(chat.engine)
    started = await drafts.start(_message(chat, "thuong_truc"))
    assert started is not None
    draft, prompt = started
    assert prompt == prompt.__class__(msg.FORM_ASK_UNIT, Stage.UNIT)
    again = await drafts.choose_unit(draft, "Xã Không Có", chat.now)
    assert again.stage is Stage.UNIT
    assert draft.unit is None
    first = await drafts.choose_unit(draft, "Bình Thuận", chat.now)
    assert first.stage is Stage.FIELD
    assert draft.unit is not None
    assert draft.unit.code == "binh_thuan"


async def test_fields_the_unit_reported_last_week_are_asked_with_last_weeks_figures(
    chat: ChatBot,
) -> None:
    assert "Đã nhận báo cáo" in await chat.at(chat.now - timedelta(days=7)).send(
        "cb_binh_long", LAST_WEEK_WITH_BTXH
    )
    chat.at(chat.now + timedelta(days=7))
    drafts = Drafts(chat.engine)
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, prompt = started
    assert len(draft.fields) == 9  # 5 required + the 4 BTXH/NCC fields it reports
    assert "Trẻ dưới 6 tuổi" not in [f.label for f in draft.fields]
    assert f"Đã cấp CCCD? (lần trước: {format_int(6352)})" in prompt.text


async def test_answers_are_counts_a_bad_one_is_refused_in_vietnamese(chat: ChatBot) -> None:
    drafts = Drafts(chat.engine)
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, _ = started
    refused = drafts.answer(draft, "sáu nghìn")
    assert refused.stage is Stage.FIELD
    assert "không phải là số nguyên" in refused.text
    assert draft.index == 0
    answers = ["6.352", "5014", "4.454", "898", "286"]
    for answer in answers:
        prompt = drafts.answer(draft, answer)
    assert prompt.stage is Stage.CONFIRM
    assert prompt.text == msg.form_summary(
        drafts.report_text(draft), "tuần 47/2024", "Xã Bình Long"
    )
    assert prompt.text.startswith("Kiểm tra lại báo cáo tuần 47/2024 — Xã Bình Long trước khi gửi")
    assert "\nTuần: 47/2024\n" in prompt.text
    assert "Đã cấp CCCD: 6.352" in prompt.text
    assert [a for a, _ in CONFIRM_ACTIONS] == ["send", "edit", "cancel"]
    # Editing starts again at the first field with the typed value kept (`.` keeps it).
    again = drafts.edit(draft)
    assert again.stage is Stage.FIELD
    assert "6.352" in again.text
    drafts.answer(draft, ".")
    assert draft.values["citizen_id_issued"] == 6352


async def test_the_finished_draft_is_stored_like_a_typed_report(chat: ChatBot) -> None:
    drafts = Drafts(chat.engine)
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, _ = started
    for answer in ("6352", "5014", "4454", "898", "286"):
        drafts.answer(draft, answer)
    replies = await chat.replies("cb_binh_long", drafts.report_text(draft))
    assert "Đã nhận báo cáo tuần 47/2024 của Xã Bình Long" in render_plain(replies[0].blocks)
    async with chat.engine.db.unit_of_work() as uow:
        [stored] = await uow.submissions.versions("binh_long", "2024-W47")
    assert stored.values["eid_verified"] == 5014


async def test_the_timeout_text_counts_whole_minutes(chat: ChatBot) -> None:
    drafts = Drafts(chat.engine)
    assert drafts.timeout_text(0.5) == msg.form_timeout(1)
    assert drafts.timeout_text(600) == msg.form_timeout(10)


# --- kept in the database, for any worker -------------------------------------------------------


async def test_a_stored_draft_reads_back_and_a_stale_write_is_refused(chat: ChatBot) -> None:
    drafts = Drafts(chat.engine, timeout_s=600)
    key = DraftKey("sim", GROUP, "cb_binh_long")
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, _ = started
    draft.took(11)
    assert await drafts.save(key, draft, chat.now)
    # Two workers read version 1; each takes an answer; only the first write lands.
    first, second = await drafts.load(key), await drafts.load(key)
    assert first is not None
    assert second is not None
    drafts.answer(first, "6000")
    first.took(12)
    drafts.answer(second, "5000")
    second.took(13)
    assert await drafts.save(key, first, chat.now)
    assert not await drafts.save(key, second, chat.now)
    again = await drafts.load(key)
    assert again is not None
    assert again.index == 1
    assert dict(again.values) == {draft.fields[0].code: 6000}
    assert again.taken == (11, 12)
    assert again.unit == draft.unit
    assert again.fields == draft.fields
    assert again.expires_at == chat.now + timedelta(seconds=600)
    # The second worker reads it again and takes its answer as field 2.
    drafts.answer(again, "5000")
    again.took(13)
    assert await drafts.save(key, again, chat.now)
    final = await drafts.load(key)
    assert final is not None
    assert (final.index, list(final.values.values())) == (2, [6000, 5000])


async def test_an_expired_draft_is_claimed_once(chat: ChatBot) -> None:
    drafts = Drafts(chat.engine, timeout_s=60)
    key = DraftKey("sim", GROUP, "cb_binh_long")
    started = await drafts.start(_message(chat, "cb_binh_long"))
    assert started is not None
    draft, _ = started
    assert await drafts.save(key, draft, chat.now)
    assert await drafts.claim_expired("sim", chat.now + timedelta(seconds=59)) == []
    later = chat.now + timedelta(seconds=60)
    [(claimed_key, claimed)] = await drafts.claim_expired("sim", later)
    assert claimed_key == key
    assert claimed.unit == draft.unit
    assert await drafts.claim_expired("sim", later) == []  # the other worker finds none
    assert await drafts.load(key) is None
    assert not await drafts.discard(key, claimed)  # ended already
