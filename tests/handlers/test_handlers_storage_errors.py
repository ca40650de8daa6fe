"""A storage failure that waiting will not fix (a value the database refuses, a full disk) is
not "busy, send again": the officer is told it is a storage error the admins know of, and the
admins are told once, in private. Real databases refuse here: a trigger refusing a value or
answering "disk full" (PostgreSQL), a page limit that really fills the disk (SQLite)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from core import messages as msg
from core.chat import Recipient, Reply, render_plain
from handlers.engine import lasting_problem
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


async def test_a_full_disk_is_a_storage_error_told_to_admins_once(
    chat: ChatBot, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    capture = Capture()
    chat.engine.notifiers = [capture]
    if db.engine.dialect.name == "sqlite":
        await _fill_the_disk(db)
        sent = 40  # until the pages run out: the first reports fit, the later ones do not
    else:
        await _disk_full_on_reports(db)
        sent = 2
    answers = []
    for n in range(sent):
        chat.now += timedelta(seconds=10)  # an officer's pace, under the flood limits
        answers.append(await chat.send("cb_binh_long", REPORT.replace("898", str(900 + n))))
    assert msg.STORAGE_FAILED_NOT_SAVED in answers
    assert not any(a.startswith("⚠️ Hệ thống đang bận") for a in answers)
    # Only what was acknowledged is stored: a refused report left no row behind.
    acknowledged = sum(a.startswith("✅ Đã nhận báo cáo") for a in answers)
    assert acknowledged + answers.count(msg.STORAGE_FAILED_NOT_SAVED) == sent
    async with db.engine.connect() as connection:
        stored = (
            await connection.execute(select(func.count()).select_from(SubmissionRow))
        ).scalar()
    assert stored == acknowledged
    if db.engine.dialect.name != "sqlite":
        assert acknowledged == 0
        # The server's own SQLSTATE came through asyncpg and SQLAlchemy to the engine.
        failures = [r.exc_info[1] for r in caplog.records if r.exc_info]
        assert len(failures) == sent
        for failure in failures:
            assert isinstance(failure, DBAPIError)
            assert getattr(failure.orig, "sqlstate", None) == "53100"
    # The admins are told once, in private, whatever number of reports failed.
    [(to, alert)] = capture.posts
    assert to.key == "thuong_truc"
    assert not to.group
    assert alert == msg.storage_alert("baocao", "ổ đĩa của cơ sở dữ liệu đã đầy")


async def _fill_the_disk(db: Database) -> None:
    """SQLite: `max_page_count` set to the pages in use makes the disk really full for every
    new connection (SQLITE_FULL, "database or disk is full"), from the first page a report
    needs that the file does not have."""
    async with db.engine.connect() as connection:
        pages = (await connection.exec_driver_sql("PRAGMA page_count")).scalar_one()

    def limit(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    await db.engine.dispose()
    event.listen(db.engine.sync_engine, "connect", limit)


async def _disk_full_on_reports(db: Database) -> None:
    """PostgreSQL: the real server raises SQLSTATE 53100 (`disk_full`) with the words it uses
    when it cannot extend a table's file, from a trigger on the first table a report's store
    inserts into (`submissions`).

    Faithful where the bot is concerned: the error is made by the real server, not by us; it
    reaches the bot the way a real one does (the PostgreSQL protocol, asyncpg's
    `DiskFullError`, SQLAlchemy's `DBAPIError` wrapping it, the unit of work rolled back), and
    the bot knows it only by its SQLSTATE and words, which are the same. What it does not show:
    a disk that is really full. There the first statement to fail may be another (the update
    key's row, a read's temporary file), and a full WAL disk makes the server stop (PANIC)
    instead of answering 53100: the bot then sees a lost connection, a transient failure
    ("hệ thống đang bận"), until the server is back. A really full disk needs a filesystem
    mounted for the test (root) and a server on this machine, which `make test` cannot assume;
    done once by hand (a tablespace on a 512 KB tmpfs, PostgreSQL 15), it gave the same
    `DBAPIError`, SQLSTATE 53100 and `could not extend file "pg_tblspc/…": No space left on
    device`, and `lasting_problem` called it a full disk."""
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN "
                'RAISE EXCEPTION \'could not extend file "base/16384/16385": '
                "No space left on device' USING ERRCODE = 'disk_full', "
                "HINT = 'Check free disk space.'; "
                "END $$ LANGUAGE plpgsql"
            )
        )
        await connection.execute(
            text(
                "CREATE TRIGGER disk_full BEFORE INSERT ON submissions "
                "FOR EACH ROW EXECUTE FUNCTION disk_full()"
            )
        )


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
