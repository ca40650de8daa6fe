"""The monthly message allowance without a platform, on SQLite and PostgreSQL: counted per
platform and month, the admins warned once, at the count that reaches 80 %."""

from __future__ import annotations

from datetime import timedelta

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import render_plain
from handlers.quota import count_sent
from storage import Database
from tests.conftest import SATURDAY


async def test_the_count_that_reaches_80_percent_warns_the_admins_once(
    db: Database, catalogue: Catalogue
) -> None:
    assert await count_sent(db, catalogue, "zalo", SATURDAY, 3, 10) is None
    assert await count_sent(db, catalogue, "telegram", SATURDAY, 9, 10) is not None
    warning = await count_sent(db, catalogue, "zalo", SATURDAY, 5, 10)
    assert warning is not None
    assert (warning.total, warning.month) == (8, "2024-11")
    assert render_plain(warning.message.blocks) == msg.zalo_monthly_warning("8", "10", "2024-11")
    assert [r.key for r in warning.recipients] == ["thuong_truc"]
    assert not warning.recipients[0].group
    assert await count_sent(db, catalogue, "zalo", SATURDAY, 5, 10) is None  # once a month
    next_month = SATURDAY + timedelta(days=20)
    assert await count_sent(db, catalogue, "zalo", next_month, 8, 10) is not None
    async with db.unit_of_work() as uow:
        assert await uow.outgoing.count("zalo", "2024-11") == 13
