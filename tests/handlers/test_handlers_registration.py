"""/dangky and /duyet: admins can tell the people asking apart, refuse them all at once;
requests lapse, strangers are limited, and the list stays one message (both databases)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from core import messages as msg
from core.catalogue import RegistrationRules
from core.chat import Incoming, render_plain
from core.submission import Sender
from storage import Database
from storage.models import AuditRow, RegistrationRow
from tests.conftest import ChatBot


async def _as(chat: ChatBot, user: str, text: str, *, name: str = "", handle: str = "") -> str:
    message = Incoming(
        platform="telegram",
        chat_id=user,
        chat_type="private",
        user_id=user,
        user_name=name or user,
        user_handle=handle,
        text=text,
        sent_at=chat.now,
    )
    return "\n\n".join(render_plain(r.blocks) for r in await chat.engine.handle(message))


def _number(answer: str) -> str:
    found = re.search(r"đăng ký số (\d+)", answer)
    assert found, answer
    return found.group(1)


def _rules(chat: ChatBot, **changes: object) -> None:
    catalogue = chat.engine.catalogue
    chat.engine.catalogue = replace(
        catalogue,
        registration=replace(catalogue.registration, **changes),  # type: ignore[arg-type]
    )


async def test_the_list_shows_who_is_asking(chat: ChatBot) -> None:
    await _as(chat, "5001", "/dangky Bình Long", name="Nguyễn Tường Duy (Tổ trưởng)", handle="duy")
    chat.at(chat.now + timedelta(hours=1))
    await _as(chat, "5002", "/dangky xa binh thuan", name="Người lạ")
    listed = await chat.send("thuong_truc", "/duyet", "rieng")
    lines = [line for line in listed.splitlines() if line.startswith("• ")]
    assert len(lines) == 2
    assert "Nguyễn Tường Duy (Tổ trưởng) (telegram 5001, @duy) — Xã Bình Long" in lines[0]
    assert "viết lần đầu 09:00 16/11/2024" in lines[0]
    assert "nội dung: “Bình Long”" in lines[0]
    assert "Người lạ (telegram 5002) — Xã Bình Thuận" in lines[1]
    assert "viết lần đầu 10:00 16/11/2024" in lines[1]
    assert "nội dung: “xa binh thuan”" in lines[1]


async def test_refuse_all_at_once(chat: ChatBot, db: Database) -> None:
    for user in ("5001", "5002", "5003"):
        await _as(chat, user, "/dangky Xã Bình Long")
    answer = await chat.send("thuong_truc", "/duyet tuchoi tatca", "rieng")
    assert answer == msg.registrations_all_rejected(3)
    assert await chat.send("thuong_truc", "/duyet", "rieng") == msg.registration_list([])
    assert await chat.send("thuong_truc", "/duyet Từ chối tất cả", "rieng") == (
        msg.registrations_all_rejected(0)
    )
    async with db.engine.connect() as connection:
        statuses = (await connection.execute(select(RegistrationRow.status))).scalars().all()
        audit = (
            await connection.execute(
                select(AuditRow.actor).where(AuditRow.action == "registration.rejected_all")
            )
        ).all()
    assert statuses == ["rejected"] * 3
    assert audit == [("sim:thuong_truc",)]
    assert await _as(chat, "5001", "/baocao") == msg.not_registered()
    assert await chat.send("lanh_dao", "/duyet tuchoi tatca", "rieng") == msg.ADMINS_ONLY


async def test_requests_expire(chat: ChatBot) -> None:
    _rules(chat, expire_after=timedelta(hours=24))
    number = _number(await _as(chat, "5001", "/dangky Xã Bình Long"))
    chat.at(chat.now + timedelta(hours=25))
    assert await chat.send("thuong_truc", "/duyet", "rieng") == msg.registration_list([])
    refused = await chat.send("thuong_truc", f"/duyet {number}", "rieng")
    assert refused == msg.registration_missing(number)
    # The person may ask again, and that request is approved as usual.
    again = _number(await _as(chat, "5001", "/dangky Xã Bình Long"))
    assert again != number
    assert (await chat.send("thuong_truc", f"/duyet {again}", "rieng")).startswith("✅ Đã duyệt")


async def test_one_sender_is_limited_per_day(chat: ChatBot) -> None:
    for _ in range(3):
        assert "Đã gửi yêu cầu" in await _as(chat, "5001", "/dangky Xã Bình Long")
        assert "Đã từ chối" in await chat.send("thuong_truc", "/duyet tuchoi tatca", "rieng")
    assert await _as(chat, "5001", "/dangky Xã Bình Long") == msg.registration_sender_limit(3)
    assert "Đã gửi yêu cầu" in await _as(chat, "5002", "/dangky Xã Bình Long")
    chat.at(chat.now + timedelta(hours=24, minutes=1))
    assert "Đã gửi yêu cầu" in await _as(chat, "5001", "/dangky Xã Bình Long")


async def test_everyone_together_is_limited_per_day(chat: ChatBot) -> None:
    _rules(chat, per_day=4)
    for user in range(4):
        assert "Đã gửi yêu cầu" in await _as(chat, str(5000 + user), "/dangky Xã Bình Long")
    assert await _as(chat, "5999", "/dangky Xã Bình Long") == msg.REGISTRATION_DAY_LIMIT
    chat.at(chat.now + timedelta(days=1, minutes=1))
    assert "Đã gửi yêu cầu" in await _as(chat, "5999", "/dangky Xã Bình Long")


async def test_the_pending_list_stays_one_message(chat: ChatBot, db: Database) -> None:
    async with db.unit_of_work() as uow:
        for i in range(80):
            await uow.registrations.add(
                Sender("telegram", str(10**12 + i), "Người lạ " * 22),
                "binh_long",
                "officer",
                chat.now,
                username="u" * 32,
                request="Xã Bình Long " * 30,
            )
        await uow.commit()
    listed = await chat.send("thuong_truc", "/duyet", "rieng")
    assert len(listed) <= 4096
    shown = listed.count("• Số ")
    assert 0 < shown < 80
    assert msg.registrations_more(80 - shown) in listed
    assert listed.endswith(msg.REGISTRATION_LIST_FOOTER)


def test_default_rules() -> None:
    assert RegistrationRules().expire_after == timedelta(days=3)
