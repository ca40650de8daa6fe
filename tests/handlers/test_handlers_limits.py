"""The same oversized input gets the same answer on SQLite and PostgreSQL: a display name is
trimmed to its column, an id longer than any platform's is refused before storage."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from core.chat import Incoming, render_plain
from storage import Database
from storage.models import Base, ProcessedUpdate, RegistrationRow, SubmissionRow
from tests.conftest import ChatBot

REPORT = (
    "/baocao\nĐơn vị: Xã Bình Long\nĐã cấp CCCD: 6.358\nĐã xác thực ĐDĐT: 5.014\n"
    "Đã kích hoạt ĐDĐT: 4.454\nTrẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)


def _message(chat: ChatBot, user: str, name: str, text: str, **extra: str) -> Incoming:
    return Incoming(
        platform="telegram",
        chat_id=extra.pop("chat_id", user),
        chat_type="private",
        user_id=user,
        user_name=name,
        text=text,
        sent_at=chat.now,
        **extra,  # type: ignore[arg-type]
    )


async def _send(chat: ChatBot, message: Incoming) -> str:
    return "\n\n".join(render_plain(r.blocks) for r in await chat.engine.handle(message))


async def _rows(db: Database) -> int:
    async with db.engine.connect() as connection:
        total = 0
        for table in Base.metadata.sorted_tables:
            total += (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
        return total


async def test_a_long_display_name_is_trimmed_on_both_databases(
    chat: ChatBot, db: Database
) -> None:
    name = "Nguyễn Tường Duy " * 30  # 510 characters
    message = _message(chat, "6001", name, "/dangky Xã Bình Long", user_handle="u" * 100)
    answer = await _send(chat, message)
    assert answer.startswith("Đã gửi yêu cầu đăng ký số")
    async with db.engine.connect() as connection:
        [(stored, handle)] = (
            await connection.execute(select(RegistrationRow.display_name, RegistrationRow.username))
        ).all()
    assert stored == name[:200]
    assert handle == "u" * 64
    number = answer.split("số ")[1].split()[0]
    assert (await chat.send("thuong_truc", f"/duyet {number}", "rieng")).startswith("✅ Đã duyệt")
    # The approved person's reports carry the trimmed name too.
    assert (await _send(chat, _message(chat, "6001", name, REPORT))).startswith("✅ Đã nhận")
    async with db.engine.connect() as connection:
        names = (await connection.execute(select(SubmissionRow.sender_name))).scalars().all()
    assert names == [name[:200]]


@pytest.mark.parametrize("field", ["user_id", "chat_id", "update_key"])
async def test_an_id_too_long_is_refused_before_storage(
    chat: ChatBot, db: Database, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = await _rows(db)
    long_id = "9" * 65
    ids = {"user_id": "6001", "chat_id": "6001", "update_key": "1", field: long_id}
    message = Incoming(
        platform="telegram",
        chat_type="private",
        user_name="Người lạ",
        text="/dangky Xã Bình Long",
        sent_at=chat.now,
        **ids,
    )
    with caplog.at_level(logging.WARNING, logger="handlers.limits"):
        assert await _send(chat, message) == ""
    assert field in caplog.text
    assert await _rows(db) == before
    assert await chat.engine.actor(message) is None
    # Exactly 64 characters is a valid id.
    ids[field] = "9" * 64
    fits = Incoming(
        platform="telegram",
        chat_type="private",
        user_name="Người lạ",
        text="/dangky Xã Bình Long",
        sent_at=chat.now,
        **ids,
    )
    assert (await _send(chat, fits)).startswith("Đã gửi yêu cầu đăng ký số")
    async with db.engine.connect() as connection:
        keys = (await connection.execute(select(ProcessedUpdate.update_key))).scalars().all()
    assert keys == [ids["update_key"]]
