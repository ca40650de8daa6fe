"""/nhacnho from two leaders at the same moment on two workers (issue 17: the group was nudged
twice in 9 of 10 rounds): each round, exactly one of them nudges; the other is told the units
were nudged just now."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from core.catalogue import Catalogue
from core.chat import Incoming, render_plain
from handlers.engine import Engine
from storage import Database
from tests.conftest import GROUP, ChatBot

ROUNDS = 10
MONDAY = datetime(2024, 11, 18, 7, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


async def test_two_leaders_nudging_at_once_on_two_workers_nudge_once(
    database_url: str, catalogue: Catalogue
) -> None:
    first, second = await Database.open(database_url), await Database.open(database_url)
    try:
        # Bare engines (no platform): the group post is the answer of the one that nudged.
        workers = [ChatBot(Engine(catalogue, first)), ChatBot(Engine(catalogue, second))]
        for n in range(ROUNDS):
            moment = MONDAY + n * timedelta(minutes=61)  # past the 60-minute limit each round
            answers = await asyncio.gather(
                workers[0].at(moment).send("lanh_dao", "/nhacnho"),
                workers[1].at(moment).send("thuong_truc", "/nhacnho"),
            )
            nudged = [a for a in answers if a.startswith("🔔 Lãnh đạo nhắc: 22 đơn vị")]
            held = [a for a in answers if a.startswith("Đã nhắc trong 60 phút qua, chưa nhắc")]
            assert (len(nudged), len(held)) == (1, 1), (n, answers)
        async with first.engine.connect() as connection:
            rows = await connection.scalar(text("SELECT count(*) FROM nudges"))
        assert rows == 22 * ROUNDS  # every unit recorded once a round
    finally:
        await first.close()
        await second.close()


async def test_a_nudge_handled_again_nudges_nobody_twice(
    db: Database, catalogue: Catalogue
) -> None:
    """/nhacnho's worker died after its commit: handled again, the update runs again (its
    answer, who was reached, could not be kept), nudges nobody twice and says so."""
    engine = Engine(catalogue, db, clock=lambda: MONDAY)
    message = Incoming(
        "sim", GROUP, "group", "lanh_dao", "lanh_dao", "/nhacnho", MONDAY, update_key="n-1"
    )
    first = await engine.handle(message)
    assert render_plain(first[0].blocks).startswith("🔔 Lãnh đạo nhắc: 22 đơn vị")
    [again] = await engine.handle(message)
    assert render_plain(again.blocks).startswith("Đã nhắc trong 60 phút qua, chưa nhắc lại")
    async with db.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM nudges")) == 22
