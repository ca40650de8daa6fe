from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.submission import PendingReport, Sender
from storage import Database

T0 = datetime(2024, 11, 8, 2, 0, tzinfo=UTC)
ALICE = Sender("telegram", "1", "Chị An")
BOB = Sender("zalo", "2", "Anh Bình")


async def test_registration_lifecycle(db: Database) -> None:
    async with db.unit_of_work() as uow:
        first = await uow.registrations.add(ALICE, "xa-an-phu", "officer", T0)
        second = await uow.registrations.add(BOB, "xa-khac", "officer", T0 + timedelta(minutes=1))
        await uow.commit()
    assert first.status == "pending"
    assert first.created_at == T0

    async with db.unit_of_work() as uow:
        assert await uow.registrations.pending() == [first, second]
        assert await uow.registrations.pending_for("telegram", "1") == first
        assert await uow.registrations.approved_for("telegram", "1") is None
        decided = await uow.registrations.decide(first.id, "approved", "admin", T0)
        assert await uow.registrations.decide(10_000, "approved", "admin", T0) is None
        with pytest.raises(ValueError, match="approved"):
            await uow.registrations.decide(second.id, "maybe", "admin", T0)
        await uow.commit()
    assert decided is not None
    assert (decided.status, decided.decided_by) == ("approved", "admin")

    async with db.unit_of_work() as uow:
        assert await uow.registrations.approved_for("telegram", "1") == decided
        assert await uow.registrations.get(first.id) == decided
        assert await uow.registrations.get(10_000) is None
        assert await uow.registrations.pending_for("telegram", "1") is None
        assert await uow.registrations.pending() == [second]


async def test_approved_for_returns_most_recent(db: Database) -> None:
    async with db.unit_of_work() as uow:
        old = await uow.registrations.add(ALICE, "xa-cu", "officer", T0)
        new = await uow.registrations.add(ALICE, "xa-moi", "leader", T0 + timedelta(days=1))
        for registration in (old, new):
            await uow.registrations.decide(registration.id, "approved", "admin", T0)
        await uow.commit()
    async with db.unit_of_work() as uow:
        approved = await uow.registrations.approved_for("telegram", "1")
    assert approved is not None
    assert (approved.unit, approved.role) == ("xa-moi", "leader")


async def test_approved_for_units_counts_each_person_where_last_approved(db: Database) -> None:
    carol = Sender("zalo", "c", "Carol")
    async with db.unit_of_work() as uow:
        moved = await uow.registrations.add(ALICE, "xa-cu", "officer", T0)
        stays = await uow.registrations.add(BOB, "xa-cu", "officer", T0)
        await uow.registrations.add(carol, "xa-cu", "officer", T0)  # never approved
        again = await uow.registrations.add(ALICE, "xa-moi", "officer", T0 + timedelta(days=1))
        for registration in (moved, stays, again):
            await uow.registrations.decide(registration.id, "approved", "admin", T0)
        found = await uow.registrations.approved_for_units(["xa-cu", "xa-moi", "xa-khac"])
    assert {u: [r.sender for r in regs] for u, regs in found.items()} == {
        "xa-cu": [BOB],
        "xa-moi": [ALICE],
    }


def held(sender: Sender, cccd: int) -> PendingReport:
    return PendingReport(
        sender=sender,
        chat="-100123",
        unit="xa-an-phu",
        period="2024-W45",
        late=True,
        values={"cccd": cccd},
        raw_text=f"cccd {cccd}",
        sent_at=T0,
        warnings=("giảm",),
        held_at=T0,  # when `put` held it, as read back
    )


async def test_pending_put_replace_get_delete(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.pending.put(held(ALICE, 1), T0)
        await uow.pending.put(held(BOB, 5), T0)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.pending.get("telegram", "1") == held(ALICE, 1)
        await uow.pending.put(held(ALICE, 2), T0)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.pending.get("telegram", "1") == held(ALICE, 2)
        await uow.pending.delete("telegram", "1")
        await uow.pending.delete("telegram", "nobody")
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.pending.get("telegram", "1") is None
        assert await uow.pending.get("zalo", "2") == held(BOB, 5)


async def test_audit_recent_newest_first(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.audit.add(T0, "telegram:1", "submit", "xa-an-phu", "2024-W45", {"version": 1})
        await uow.audit.add(T0 + timedelta(hours=1), "admin", "approve")
        await uow.audit.add(T0 + timedelta(hours=2), "admin", "reject", detail={"id": 3})
        await uow.commit()
    async with db.unit_of_work() as uow:
        entries = await uow.audit.recent(2)
        everything = await uow.audit.recent(10)
    assert [e.action for e in entries] == ["reject", "approve"]
    assert entries[0].detail == {"id": 3}
    assert entries[1].detail == {}
    oldest = everything[-1]
    assert (oldest.at, oldest.actor, oldest.unit, oldest.period) == (
        T0,
        "telegram:1",
        "xa-an-phu",
        "2024-W45",
    )
    assert oldest.detail == {"version": 1}


async def test_update_log_first_time_only(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await uow.updates.first_time("telegram", "1001", T0)
        assert not await uow.updates.first_time("telegram", "1001", T0)
        assert await uow.updates.first_time("zalo", "1001", T0)
        # The duplicate must not have aborted the transaction.
        await uow.audit.add(T0, "bot", "after-duplicate")
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert not await uow.updates.first_time("telegram", "1001", T0)
        assert [e.action for e in await uow.audit.recent(5)] == ["after-duplicate"]
