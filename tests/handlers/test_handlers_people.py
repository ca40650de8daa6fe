"""/thuhoi: admins see everyone approved through /dangky and take access back; a revoked or
suspended person is a stranger from their next message on (both databases)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from core import messages as msg
from core.chat import Incoming, render_plain
from core.submission import Sender
from storage import Database
from storage.models import AuditRow
from tests.conftest import ChatBot

REPORT = (
    "/baocao\nĐã cấp CCCD: 6.358\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.454\n"
    "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)


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


async def _approved(
    chat: ChatBot, user: str, unit: str, *, name: str = "", handle: str = ""
) -> str:
    answer = await _as(chat, user, f"/dangky {unit}", name=name, handle=handle)
    number = re.search(r"đăng ký số (\d+)", answer)
    assert number, answer
    assert (await chat.send("thuong_truc", f"/duyet {number.group(1)}", "rieng")).startswith("✅")
    return number.group(1)


async def test_the_list_tells_people_apart(chat: ChatBot) -> None:
    await _approved(chat, "7001", "Xã Bình Long", name="Người lạ", handle="duy_nt")
    await _approved(chat, "7002", "Xã Bình Thuận", name="Người lạ")
    listed = await chat.send("thuong_truc", "/thuhoi", "rieng")
    assert "Người lạ (telegram 7001, @duy_nt) — Xã Bình Long" in listed
    assert "Người lạ (telegram 7002) — Xã Bình Thuận" in listed
    assert msg.PEOPLE_FOOTER in listed


async def test_revoked_person_is_a_stranger_at_once(chat: ChatBot, db: Database) -> None:
    number = await _approved(chat, "7001", "Xã Bình Long", name="Trần Văn Bình")
    assert (await _as(chat, "7001", REPORT)).startswith("✅ Đã nhận báo cáo")
    answer = await chat.send("thuong_truc", f"/thuhoi {number}", "rieng")
    assert answer == msg.person_revoked("Trần Văn Bình", "Xã Bình Long")
    assert await _as(chat, "7001", REPORT) == msg.not_registered()
    # A stranger now: one answer an hour (handlers.flood).
    assert await _as(chat, "7001", "/trangthai") == ""
    chat.at(chat.now + timedelta(hours=1))
    assert await _as(chat, "7001", "/trangthai") == msg.not_registered()
    chat.at(chat.now + timedelta(hours=1))
    assert await _as(chat, "7001", "/lichsu") == msg.not_registered()
    assert "Trần Văn Bình" not in await chat.send("thuong_truc", "/thuhoi", "rieng")
    async with db.engine.connect() as connection:
        rows = (
            await connection.execute(select(AuditRow).where(AuditRow.action == "person.revoke"))
        ).all()
    assert [(r.actor, r.unit, r.detail["user"]) for r in rows] == [
        ("sim:thuong_truc", "binh_long", "telegram:7001")
    ]


async def test_an_older_approval_does_not_keep_a_revoked_person_in(
    chat: ChatBot, db: Database
) -> None:
    async with db.unit_of_work() as uow:  # approved for one unit, later for another
        for unit, minute in (("binh_thuan", 0), ("binh_long", 1)):
            reg = await uow.registrations.add(
                Sender("telegram", "7001", "Trần Văn Bình"),
                unit,
                "officer",
                chat.now + timedelta(minutes=minute),
            )
            await uow.registrations.decide(reg.id, "approved", "test", chat.now)
        await uow.commit()
    assert (await _as(chat, "7001", REPORT)).startswith("✅ Đã nhận báo cáo")
    assert (await chat.send("thuong_truc", "/thuhoi Trần Văn Bình", "rieng")).startswith(
        "Đã thu hồi"
    )
    assert await _as(chat, "7001", REPORT) == msg.not_registered()


async def test_suspend_and_lift(chat: ChatBot, db: Database) -> None:
    await _approved(chat, "7001", "Xã Bình Long", name="Trần Văn Bình", handle="binh_tv")
    answer = await chat.send("thuong_truc", "/thuhoi @binh_tv tamdung", "rieng")
    assert answer == msg.person_suspended("Trần Văn Bình", "Xã Bình Long")
    assert await _as(chat, "7001", REPORT) == msg.not_registered()
    assert "(đang tạm dừng)" in await chat.send("thuong_truc", "/thuhoi", "rieng")
    again = await chat.send("thuong_truc", "/thuhoi tran van binh tamdung", "rieng")
    assert again == msg.person_already_suspended("Trần Văn Bình")
    lifted = await chat.send("thuong_truc", "/thuhoi Trần Văn Bình molai", "rieng")
    assert lifted == msg.person_resumed("Trần Văn Bình", "Xã Bình Long")
    assert (await _as(chat, "7001", REPORT)).startswith("✅ Đã nhận báo cáo")
    async with db.engine.connect() as connection:
        actions = (await connection.execute(select(AuditRow.action, AuditRow.actor))).all()
    assert ("person.suspend", "sim:thuong_truc") in actions
    assert ("person.resume", "sim:thuong_truc") in actions


async def test_names_that_match_several_people_ask_for_a_number(chat: ChatBot) -> None:
    await _approved(chat, "7001", "Xã Bình Long", name="Người lạ")
    await _approved(chat, "7002", "Xã Bình Thuận", name="Người lạ")
    answer = await chat.send("thuong_truc", "/thuhoi Người lạ", "rieng")
    assert answer.startswith("Có 2 người khớp")
    assert await chat.send("thuong_truc", "/thuhoi 99999", "rieng") == msg.person_missing("99999")
    # Nobody was touched.
    assert (await _as(chat, "7001", REPORT)).startswith("✅ Đã nhận báo cáo")


async def test_only_admins_may(chat: ChatBot) -> None:
    number = await _approved(chat, "7001", "Xã Bình Long")
    for user in ("lanh_dao", "cb_binh_long", "nguoi_la"):
        assert await chat.send(user, f"/thuhoi {number}", "rieng") == msg.ADMINS_ONLY
    assert await _as(chat, "7001", f"/thuhoi {number}") == msg.ADMINS_ONLY


async def test_the_people_list_stays_one_message(chat: ChatBot, db: Database) -> None:
    chat.engine.catalogue = replace(
        chat.engine.catalogue,
        registration=replace(chat.engine.catalogue.registration, per_day=1000),
    )
    async with db.unit_of_work() as uow:
        for i in range(60):
            reg = await uow.registrations.add(
                Sender("telegram", str(9000 + i), "Nguyễn " + "Văn " * 20 + str(i)),
                "binh_long",
                "officer",
                chat.now,
                username=f"user_{i}",
            )
            await uow.registrations.decide(reg.id, "approved", "test", chat.now)
        await uow.commit()
    listed = await chat.send("thuong_truc", "/thuhoi", "rieng")
    assert len(listed) <= 4096
    shown = listed.count("• Số ")
    assert 0 < shown < 60
    assert f"…và {60 - shown} người khác" in listed
