"""Database outage: an officer is told the report was NOT saved, nothing is half-written, and
the bot recovers by itself when the database is back.

PostgreSQL is "stopped" by a TCP proxy between the bot and the server that drops every
connection and refuses new ones, then resumes. SQLite's outage is another process holding an
exclusive lock for longer than busy_timeout.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Incoming, render_plain
from handlers.engine import Engine
from storage import Database
from tests.outage import outage_switch
from tests.scratch_pg import postgres_url

SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def _report(n: int) -> str:
    return (
        f"/baocao\nĐã cấp CCCD: {6000 + n}\nĐã xác thực ĐDĐT: {5000 + n}\n"
        f"Đã kích hoạt ĐDĐT: {4000 + n}\nTrẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300"
    )


async def test_outage_refuses_reports_as_not_saved_and_recovers_without_restart(
    database_url: str, catalogue: Catalogue
) -> None:
    # Migrate directly, so the outage only ever touches the bot's own connections.
    await (await Database.open(database_url)).close()
    async with outage_switch(database_url) as outage:
        db = await Database.open(outage.url)
        engine = Engine(catalogue, db, clock=lambda: SATURDAY)
        acked: list[int] = []
        refused: list[int] = []
        count = 0

        async def send(n: int) -> str:
            nonlocal count
            count += 1
            message = Incoming(
                "sim",
                "nhom_bao_cao",
                "group",
                "cb_binh_long",
                "cb_binh_long",
                _report(n),
                SATURDAY,
                str(count),
            )
            answer = "\n".join(render_plain(r.blocks) for r in await engine.handle(message))
            if answer.startswith("✅ Đã nhận"):
                acked.append(5000 + n)
            elif answer == msg.BUSY_NOT_SAVED:
                refused.append(5000 + n)
            else:
                pytest.fail(answer)
            return answer

        during = 1 if "sqlite" in database_url else 3  # each SQLite attempt waits busy_timeout
        try:
            for n in (1, 2, 3):
                assert (await send(n)).startswith("✅ Đã nhận")
            outage.stop()
            for n in range(4, 4 + during):
                assert await send(n) == msg.BUSY_NOT_SAVED
            # A read-only command gets the plain "busy" answer, not a crash.
            busy = Incoming(
                "sim", "nhom_bao_cao", "group", "lanh_dao", "lanh_dao", "/trangthai", SATURDAY
            )
            assert [render_plain(r.blocks) for r in await engine.handle(busy)] == [msg.BUSY]
            if outage.hang is not None:
                # A server that accepts but never answers costs the connect timeout, not minutes.
                outage.hang()
                assert await send(7) == msg.BUSY_NOT_SAVED
            outage.resume()
            for n in range(10, 13):
                assert (await send(n)).startswith("✅ Đã nhận")  # no restart in between
        finally:
            await db.close()

    hung = [5007] if outage.hang is not None else []
    assert refused == [5000 + n for n in range(4, 4 + during)] + hung
    # Exactly the acknowledged reports are stored, each with its audit entry; nothing else.
    check = await Database.open(database_url)
    try:
        async with check.unit_of_work() as uow:
            versions = await uow.submissions.versions("binh_long", "2024-W47")
            assert [v.values["eid_verified"] for v in versions] == acked
        assert len(acked) == 6
        assert await _count(check, "audit_log") == len(acked)
        assert await _count(check, "pending_reports") == 0
    finally:
        await check.close()


async def _count(db: Database, table: str) -> int:
    async with db.engine.connect() as connection:
        result = await connection.execute(text(f"SELECT count(*) FROM {table}"))
        return int(result.scalar_one())


# PostgreSQL's simple-query message for asyncpg's `COMMIT;` (BEGIN's "READ COMMITTED;" differs).
COMMIT = b"COMMIT;\x00"


async def test_connection_lost_before_commit_stores_nothing_and_says_so(
    catalogue: Catalogue,
) -> None:
    """The report's statements have run in an open transaction when the connection dies on
    its way to COMMIT: the server rolls all of them back, the officer is told it was not
    saved, and the next report goes through on a fresh connection."""
    url = await postgres_url()
    await (await Database.open(url)).close()
    async with outage_switch(url) as outage:
        proxy = outage.proxy
        assert proxy is not None
        db = await Database.open(outage.url)
        engine = Engine(catalogue, db, clock=lambda: SATURDAY)
        # The report's COMMIT is the one cut; the flood count's own transaction would take
        # the cut first (its fallback: tests/handlers/test_handlers_flood.py).
        engine.shared_flood = None
        try:
            answers = []
            for n, cut in ((1, False), (2, True), (3, False)):
                proxy.cut_on = COMMIT if cut else None
                message = Incoming(
                    "sim",
                    "nhom_bao_cao",
                    "group",
                    "cb_binh_long",
                    "cb_binh_long",
                    _report(n),
                    SATURDAY,
                    str(n),
                )
                answers.append(render_plain((await engine.handle(message))[0].blocks))
            assert proxy.cut_on is None  # the cut happened
        finally:
            await db.close()
    assert answers[0].startswith("✅ Đã nhận")
    assert answers[1] == msg.BUSY_NOT_SAVED
    assert answers[2].startswith("✅ Đã nhận")
    check = await Database.open(url)
    try:
        async with check.unit_of_work() as uow:
            versions = await uow.submissions.versions("binh_long", "2024-W47")
        assert [v.values["eid_verified"] for v in versions] == [5001, 5003]
        assert await _count(check, "audit_log") == 2
    finally:
        await check.close()
