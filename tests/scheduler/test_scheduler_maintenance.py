"""The maintenance job prunes old update keys and old refused or unanswered requests, keeps
everything else (the audit trail, approved people, recent keys), on both databases; the
scheduler runs it on taking the lead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.catalogue import Catalogue
from core.chat import Incoming, render_plain
from core.submission import Sender
from handlers.flood import SENDERS_KEPT
from handlers.maintenance import prune
from scheduler.service import SchedulerHandle
from storage import Database
from storage.models import (
    AuditRow,
    FloodSenderRow,
    ProcessedUpdate,
    RegistrationRow,
    SubmissionRow,
)
from tests.conftest import GROUP, ChatBot
from tests.handlers.test_handlers_reports import REPORT

NOW = datetime(2024, 11, 20, 3, 0, tzinfo=UTC)


async def _seed(db: Database) -> None:
    async with db.unit_of_work() as uow:
        for key, age in (("old", timedelta(days=8)), ("recent", timedelta(days=6))):
            assert await uow.updates.first_time("telegram", key, NOW - age)
        for status, age in (
            ("rejected", timedelta(days=4)),  # refused long ago: pruned
            ("rejected", timedelta(hours=2)),  # refused today: kept (counted, still recent)
            ("pending", timedelta(days=4)),  # expired unanswered: pruned
            ("pending", timedelta(hours=2)),  # waiting: kept
            ("approved", timedelta(days=400)),  # a person: kept
        ):
            user = f"{status}-{age.total_seconds():.0f}"
            reg = await uow.registrations.add(
                Sender("telegram", user, user), "binh_long", "officer", NOW - age
            )
            if status != "pending":
                await uow.registrations.decide(reg.id, status, "admin", NOW - age)
            await uow.audit.add(NOW - age, actor="admin", action=f"registration.{status}")
        await uow.commit()


async def _remaining(db: Database) -> tuple[list[str], list[str], int]:
    async with db.engine.connect() as connection:
        keys = (await connection.execute(select(ProcessedUpdate.update_key))).scalars().all()
        users = (
            (await connection.execute(select(RegistrationRow.user_id).order_by(RegistrationRow.id)))
            .scalars()
            .all()
        )
        audit = (await connection.execute(select(func.count()).select_from(AuditRow))).scalar_one()
    return sorted(keys), list(users), audit


async def test_prune_keeps_what_is_needed(db: Database, catalogue: Catalogue) -> None:
    await _seed(db)
    pruned = await prune(catalogue, db, NOW)
    assert (pruned.updates, pruned.registrations) == (1, 2)
    keys, users, audit = await _remaining(db)
    assert keys == ["recent"]
    assert users == ["rejected-7200", "pending-7200", "approved-34560000"]
    assert audit == 5  # the audit trail is never pruned
    again = await prune(catalogue, db, NOW)
    assert (again.updates, again.registrations) == (0, 0)


async def test_the_scheduler_prunes_on_taking_the_lead(db: Database, catalogue: Catalogue) -> None:
    await _seed(db)
    handle = SchedulerHandle(catalogue, db, [], clock=lambda: NOW, realtime=False)
    await handle.start()
    try:
        assert handle.is_leader
        keys, users, _ = await _remaining(db)
        assert keys == ["recent"]
        assert len(users) == 3
    finally:
        await handle.stop()


async def test_an_old_update_id_used_again_is_a_new_update(db: Database) -> None:
    """Telegram may start its ids again after a quiet week: a key seen days ago is new; one
    seen within the redelivery window is a redelivery."""
    async with db.unit_of_work() as uow:
        assert await uow.updates.first_time("telegram", "500", NOW - timedelta(days=3))
        assert await uow.updates.first_time("telegram", "500", NOW)
        assert not await uow.updates.first_time("telegram", "500", NOW + timedelta(hours=23))
        assert not await uow.updates.first_time("telegram", "500", NOW + timedelta(hours=47))
        await uow.commit()


async def test_an_old_update_id_used_again_does_not_inherit_the_old_answer(db: Database) -> None:
    """The answer kept for the old update is not the new update's: taken over, it is gone."""
    async with db.unit_of_work() as uow:
        assert await uow.updates.first_time("telegram", "501", NOW - timedelta(days=3))
        await uow.updates.keep("telegram", "501", [{"blocks": [], "chat_id": "", "buttons": []}])
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.updates.kept("telegram", "501") is not None
        assert not await uow.updates.first_time("telegram", "501", NOW - timedelta(days=2))
        assert await uow.updates.kept("telegram", "501") is not None  # a redelivery keeps it
        assert await uow.updates.first_time("telegram", "501", NOW)
        assert await uow.updates.kept("telegram", "501") is None
        assert await uow.updates.kept("telegram", "never-seen") is None


async def test_the_engine_answers_a_new_update_that_reuses_an_old_id(chat: ChatBot) -> None:
    first = await chat.engine.handle(_report(chat))
    assert "Đã nhận báo cáo tuần 47/2024" in render_plain(first[0].blocks)
    # Redelivered: the kept answer again, nothing stored again.
    assert await chat.engine.handle(_report(chat)) == first
    assert await _reports(chat) == ["2024-W47"]
    chat.at(chat.now + timedelta(days=8))
    again = await chat.engine.handle(_report(chat))  # a new update with the old id
    assert "Đã nhận báo cáo tuần 48/2024" in render_plain(again[0].blocks)
    assert await _reports(chat) == ["2024-W47", "2024-W48"]


def _report(chat: ChatBot) -> Incoming:
    return Incoming(
        platform="sim",
        chat_id=GROUP,
        chat_type="group",
        user_id="cb_binh_long",
        user_name="cb_binh_long",
        text=REPORT,
        sent_at=chat.now,
        update_key="42",
    )


async def _reports(chat: ChatBot) -> list[str]:
    async with chat.engine.db.engine.connect() as connection:
        rows = await connection.execute(select(SubmissionRow.period).order_by(SubmissionRow.id))
        return list(rows.scalars())


async def test_senders_not_heard_from_for_a_day_lose_their_flood_state(
    db: Database, catalogue: Catalogue
) -> None:
    async with db.unit_of_work() as uow:
        await uow.flood.claim("telegram", "old", NOW - SENDERS_KEPT - timedelta(minutes=1))
        await uow.flood.claim("telegram", "recent", NOW - SENDERS_KEPT + timedelta(minutes=1))
        await uow.commit()
    assert (await prune(catalogue, db, NOW)).senders == 1
    async with db.engine.connect() as connection:
        kept = (await connection.execute(select(FloodSenderRow.user_id))).scalars().all()
    assert kept == ["recent"]
