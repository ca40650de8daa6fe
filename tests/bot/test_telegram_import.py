"""An admin's .xlsx sent to the bot in a private chat, over real HTTP against the fake Bot
API (getFile, then the file's URL: https://core.telegram.org/bots/api#getfile): the preview,
/xacnhan storing it, /huy dropping it; a non-admin's file and an oversize one refused without
being downloaded. Judged by what is stored."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.telegram.bot import TelegramBot
from core import messages as msg
from storage import Database
from storage.models import PendingImportRow, SubmissionRow
from testing.fake_telegram import FakeBotApi, document_update, text_update
from tests.bot.test_telegram import ADMIN, LAN
from tests.handlers.test_handlers_imports import golden_sheet, xlsx


async def _count(db: Database, table: type) -> int:
    async with db.unit_of_work() as uow:
        session = uow._require()
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def _answer(api: FakeBotApi, chat: int, update: dict) -> str:
    before = len(api.texts(chat))
    api.push(update)
    await api.wait_for(lambda a: len(a.texts(chat)) > before)
    return api.texts(chat)[-1]


def _downloads(api: FakeBotApi) -> int:
    return sum(1 for c in api.calls if c.method == "download")


async def test_admin_file_is_previewed_then_stored_on_xacnhan(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    document = api.send_file("tuan46.xlsx", xlsx(golden_sheet()))
    preview = await _answer(api, ADMIN, document_update(ADMIN, ADMIN, document))
    assert "22 dòng mới" in preview
    assert "/xacnhan" in preview
    assert [c.params["file_id"] for c in api.calls if c.method == "getFile"] == [
        document["file_id"]
    ]
    assert _downloads(api) == 1
    assert await _count(db, SubmissionRow) == 0
    assert await _count(db, PendingImportRow) == 1
    stored = await _answer(api, ADMIN, text_update(ADMIN, ADMIN, "/xacnhan"))
    assert stored == msg.import_stored(22, 0, 0, 0)
    assert await _count(db, SubmissionRow) == 22
    assert await _count(db, PendingImportRow) == 0


async def test_huy_drops_the_admin_s_file(api: FakeBotApi, bot: TelegramBot, db: Database) -> None:
    document = api.send_file("tuan46.xlsx", xlsx(golden_sheet()))
    await _answer(api, ADMIN, document_update(ADMIN, ADMIN, document))
    dropped = await _answer(api, ADMIN, text_update(ADMIN, ADMIN, "/huy"))
    assert dropped == msg.IMPORT_CANCELLED
    nothing = await _answer(api, ADMIN, text_update(ADMIN, ADMIN, "/xacnhan"))
    assert nothing == msg.NOTHING_TO_CONFIRM
    assert await _count(db, SubmissionRow) == 0
    assert await _count(db, PendingImportRow) == 0


async def test_a_non_admin_s_file_and_an_oversize_one_are_refused_unread(
    api: FakeBotApi, bot: TelegramBot, db: Database
) -> None:
    document = api.send_file("tuan46.xlsx", xlsx(golden_sheet()))
    refused = await _answer(api, LAN, document_update(LAN, LAN, document))
    assert refused == msg.IMPORTS_ADMINS_ONLY
    big = api.send_file("lon.xlsx", xlsx(golden_sheet()), size=3 * 1024 * 1024)
    too_big = await _answer(api, ADMIN, document_update(ADMIN, ADMIN, big))
    assert too_big == msg.import_too_large(2)
    assert not [c for c in api.calls if c.method == "getFile"]
    assert _downloads(api) == 0
    assert await _count(db, SubmissionRow) == 0
    assert await _count(db, PendingImportRow) == 0
