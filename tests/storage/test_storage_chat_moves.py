"""`chat_moves`: the id a platform gave a configured chat later (migration 0005)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import Database

AT = datetime(2024, 11, 18, 1, 0, tzinfo=UTC)


async def test_a_move_is_recorded_once_and_found_both_ways(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await uow.chat_moves.all() == {}
        await uow.chat_moves.record("telegram", "nhom_bao_cao", "-100", "-1001234", AT)
        # Both service messages and the send error say it: still one row.
        await uow.chat_moves.record("telegram", "nhom_bao_cao", "-100", "-1001234", AT)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.chat_moves.all() == {("telegram", "nhom_bao_cao"): "-1001234"}
        assert await uow.chat_moves.key_for("telegram", "-1001234") == "nhom_bao_cao"
        assert await uow.chat_moves.key_for("telegram", "-100") is None
        assert await uow.chat_moves.key_for("zalo", "-1001234") is None


async def test_a_later_move_replaces_the_id(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.chat_moves.record("telegram", "nhom", "-1", "-2", AT)
        await uow.chat_moves.record("telegram", "nhom", "-2", "-3", AT)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.chat_moves.all() == {("telegram", "nhom"): "-3"}
        assert await uow.chat_moves.key_for("telegram", "-2") is None


async def test_without_commit_no_move_is_kept(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.chat_moves.record("telegram", "nhom", "-1", "-2", AT)
    async with db.unit_of_work() as uow:
        assert await uow.chat_moves.all() == {}
