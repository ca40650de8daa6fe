"""Two corrections of one report at the same moment on two workers (issue 17): both stored as
consecutive versions, neither answered "CHƯA được lưu", nothing logged as an error."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from core.catalogue import Catalogue
from handlers.engine import Engine
from storage import Database
from tests.conftest import ChatBot

ROUNDS = 15
REPORT = """/baocao
Đã cấp CCCD: 6.352
Đã xác thực ĐDĐT: {verified}
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286"""


async def test_two_workers_correcting_one_report_at_once_both_store(
    database_url: str, catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    # Two workers: two engines, each with a database handle (a pool) of its own.
    first, second = await Database.open(database_url), await Database.open(database_url)
    try:
        workers = [ChatBot(Engine(catalogue, first)), ChatBot(Engine(catalogue, second))]
        caplog.set_level(logging.INFO)
        answers: list[str] = []
        for n in range(ROUNDS):
            for worker in workers:  # a minute apart: the officer's pace is not the question
                worker.now += timedelta(minutes=1)
            answers += await asyncio.gather(
                *(
                    worker.send("cb_binh_long", REPORT.format(verified=5000 + 2 * n + i))
                    for i, worker in enumerate(workers)
                )
            )
        assert all("✅" in answer and "CHƯA" not in answer for answer in answers), answers
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        async with first.unit_of_work() as uow:
            versions = await uow.submissions.versions("binh_long", "2024-W47")
        assert [v.version for v in versions] == list(range(1, 2 * ROUNDS + 1))
        assert [v.current for v in versions] == [False] * (2 * ROUNDS - 1) + [True]
        stored = sorted(v.values["eid_verified"] for v in versions)
        assert stored == list(range(5000, 5000 + 2 * ROUNDS))
    finally:
        await first.close()
        await second.close()
