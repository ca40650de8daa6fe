"""A storage failure that waiting will not fix (a value the database refuses, a full disk) is
not "busy, send again": the officer is told it is a storage error the admins know of, and the
admins are told once, in private. Real databases refuse here: a trigger, a page limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Recipient, Reply, render_plain
from handlers.engine import Engine, lasting_problem
from storage import Database
from storage.models import SubmissionRow
from tests.conftest import ChatBot

REPORT = (
    "/baocao\nĐã cấp CCCD: 6.358\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.454\n"
    "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)


class Capture:
    platform = "sim"

    def __init__(self) -> None:
        self.posts: list[tuple[Recipient, str]] = []

    async def post(self, to: Recipient, message: Reply) -> bool:
        self.posts.append((to, render_plain(message.blocks)))
        return True


async def _refuse_reports(db: Database) -> None:
    """The database refuses every new report row, as a constraint would."""
    async with db.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            await connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON submissions "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            await connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; "
                    "END $$ LANGUAGE plpgsql"
                )
            )
            await connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON submissions "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )


async def test_a_refused_value_is_a_storage_error_told_to_admins_once(
    chat: ChatBot, db: Database
) -> None:
    capture = Capture()
    chat.engine.notifiers = [capture]
    await _refuse_reports(db)
    assert await chat.send("cb_binh_long", REPORT) == msg.STORAGE_FAILED_NOT_SAVED
    assert await chat.send("cb_binh_thuan", REPORT) == msg.STORAGE_FAILED_NOT_SAVED
    [(to, alert)] = capture.posts
    assert to.key == "thuong_truc"
    assert not to.group
    assert alert == msg.storage_alert("baocao", "cơ sở dữ liệu từ chối một giá trị")
    async with db.engine.connect() as connection:
        stored = (
            await connection.execute(select(func.count()).select_from(SubmissionRow))
        ).scalar()
    assert stored == 0
    # Reading still works: only the refused write fails.
    assert "Đã báo cáo: 0/22 đơn vị" in await chat.send("lanh_dao", "/trangthai")


async def test_a_full_disk_is_a_storage_error(catalogue: Catalogue, tmp_path: Path) -> None:
    # SQLite only: its max_page_count makes a disk really full; PostgreSQL's disk-full error
    # is checked by its SQLSTATE below.
    async with await Database.open(f"sqlite:///{tmp_path / 'full.db'}") as db:
        await _fill_the_disk(ChatBot(Engine(catalogue, db)), db)


async def _fill_the_disk(chat: ChatBot, db: Database) -> None:
    capture = Capture()
    chat.engine.notifiers = [capture]
    async with db.engine.connect() as connection:
        pages = (await connection.exec_driver_sql("PRAGMA page_count")).scalar_one()

    def limit(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    await db.engine.dispose()
    event.listen(db.engine.sync_engine, "connect", limit)
    answers = [
        await chat.send("cb_binh_long", REPORT.replace("898", str(900 + n))) for n in range(40)
    ]
    assert msg.STORAGE_FAILED_NOT_SAVED in answers
    assert not any(a.startswith("⚠️ Hệ thống đang bận") for a in answers)
    [(_, alert)] = capture.posts
    assert alert == msg.storage_alert("baocao", "ổ đĩa của cơ sở dữ liệu đã đầy")


class _Orig(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "lasting"),
    [
        (IntegrityError("INSERT", {}, _Orig("UNIQUE constraint failed")), True),
        (DBAPIError("INSERT", {}, _Orig("could not extend file", "53100")), True),
        (OperationalError("INSERT", {}, _Orig("database or disk is full")), True),
        (OSError(28, "No space left on device"), True),
        (OperationalError("INSERT", {}, _Orig("database is locked")), False),
        (DBAPIError("SELECT", {}, _Orig("too many connections", "53300")), False),
        (OperationalError("SELECT", {}, _Orig("connection was closed")), False),
        (TimeoutError(), False),
        (ConnectionResetError(104, "Connection reset by peer"), False),
    ],
)
def test_what_waiting_will_not_fix(error: BaseException, lasting: bool) -> None:
    assert (lasting_problem(error) is not None) is lasting
