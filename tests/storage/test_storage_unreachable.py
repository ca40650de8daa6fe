"""`unreachable_people`: whom the bot cannot write to in private (migration 0005)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Database
from storage.repositories import UnreachablePerson

AT = datetime(2024, 11, 18, 1, 0, tzinfo=UTC)


def person(
    user_id: str, name: str, reason: str = "Forbidden", at: datetime = AT
) -> UnreachablePerson:
    return UnreachablePerson("telegram", user_id, f"p{user_id}", name, reason, at)


async def test_marked_listed_by_name_updated_and_cleared(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.unreachable.mark(person("2", "Trần Văn B"))
        await uow.unreachable.mark(person("1", "Lê Thị A"))
        await uow.unreachable.mark(person("1", "Lê Thị A", "blocked", AT + timedelta(hours=1)))
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.unreachable.all() == [
            person("1", "Lê Thị A", "blocked", AT + timedelta(hours=1)),
            person("2", "Trần Văn B"),
        ]
        assert await uow.unreachable.ids() == {("telegram", "1"), ("telegram", "2")}
        await uow.unreachable.clear("telegram", "1")
        await uow.unreachable.clear("zalo", "2")  # another platform's id: not this person
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.unreachable.all() == [person("2", "Trần Văn B")]
