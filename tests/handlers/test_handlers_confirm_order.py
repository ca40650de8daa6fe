"""An admin with an import waiting (a previewed .xlsx) and a report held for /xacnhan (a
report naming another week) at once: /xacnhan and /huy answer the one the admin was asked
about last and name the other, which stays. Judged by what is stored, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from core import messages as msg
from core.chat import Attachment, Incoming
from tests.conftest import SATURDAY, ChatBot
from tests.handlers.test_handlers_closing import FOR_46
from tests.handlers.test_handlers_imports import golden_sheet, submission_rows, xlsx

ADMIN = "thuong_truc"
FILE = "tuan46.xlsx"
# The admin reports for Bình Long; naming week 46 while week 47 is reported holds it.
HELD = FOR_46.replace("/baocao", "/baocao\nĐơn vị: Xã Bình Long")
HELD_NOTE = msg.report_still_held("Xã Bình Long", "tuần 46/2024")


async def _upload(chat: ChatBot) -> None:
    data = xlsx(golden_sheet())
    message = Incoming(
        platform="sim",
        chat_id=ADMIN,
        chat_type="private",
        user_id=ADMIN,
        user_name=ADMIN,
        text="",
        sent_at=chat.now,
        attachment=Attachment(FILE, len(data), data=data),
    )
    assert await chat.engine.handle(message)


async def _say(chat: ChatBot, text: str, minutes: int) -> str:
    chat.at(SATURDAY + timedelta(minutes=minutes))
    return await chat.send(ADMIN, text, chat=ADMIN)


async def test_xacnhan_confirms_the_report_held_after_the_import(chat: ChatBot) -> None:
    await _upload(chat)
    assert (await _say(chat, HELD, 2)).startswith("⚠️ Báo cáo CHƯA được lưu")
    answer = await _say(chat, "/xacnhan", 3)
    assert answer.startswith("✅ Đã nhận báo cáo tuần 46/2024 của Xã Bình Long")
    assert answer.endswith(msg.import_still_waiting(FILE))
    assert await submission_rows(chat.engine.db) == 1
    # The file is still there for the next /xacnhan.
    assert (await _say(chat, "/xacnhan", 4)).startswith("Đã lưu số liệu nhập từ tệp: 21")
    assert await _say(chat, "/xacnhan", 5) == msg.NOTHING_TO_CONFIRM


async def test_xacnhan_stores_the_import_previewed_after_the_held_report(chat: ChatBot) -> None:
    assert (await _say(chat, HELD, 0)).startswith("⚠️ Báo cáo CHƯA được lưu")
    chat.at(SATURDAY + timedelta(minutes=2))
    await _upload(chat)
    answer = await _say(chat, "/xacnhan", 3)
    assert answer.startswith("Đã lưu số liệu nhập từ tệp: 22 báo cáo mới")
    assert answer.endswith(HELD_NOTE)
    assert await submission_rows(chat.engine.db) == 22
    # /huy now drops the held report, which the admin was told still waits.
    assert await _say(chat, "/huy", 4) == msg.PENDING_CANCELLED
    assert await submission_rows(chat.engine.db) == 22


async def test_huy_drops_the_newer_and_names_the_other(chat: ChatBot) -> None:
    await _upload(chat)
    await _say(chat, HELD, 2)
    answer = await _say(chat, "/huy", 3)
    assert answer.startswith(msg.PENDING_CANCELLED)
    assert answer.endswith(msg.import_still_waiting(FILE))
    assert (await _say(chat, "/xacnhan", 4)).startswith("Đã lưu số liệu nhập từ tệp: 22")
