"""Per-sender flood state shared by every worker on PostgreSQL (migration 0015,
`handlers.flood.SharedFloodGuard`): one row per sender, its state as JSON. Like every
repository it never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FloodSenderRow


class FloodSenders:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, platform: str, user_id: str, now: datetime) -> dict[str, Any]:
        """The sender's state ({} for one not heard from), its row locked until the
        transaction ends: the upsert's ON CONFLICT DO UPDATE takes the row lock on
        PostgreSQL, so two workers counting one sender's messages take turns."""
        dialect = self._session.get_bind().dialect.name
        if dialect == "postgresql":
            # A count lost with the last few milliseconds before a crash costs nothing: this
            # transaction's COMMIT does not wait for the WAL to reach the disk (one flush per
            # message would halve a worker's rate); the report's own commit still does.
            await self._session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(FloodSenderRow).values(
            platform=platform, user_id=user_id, state={}, seen_at=now
        )
        claimed = statement.on_conflict_do_update(
            index_elements=[FloodSenderRow.platform, FloodSenderRow.user_id],
            set_={"seen_at": statement.excluded.seen_at},
        ).returning(FloodSenderRow.state)
        state = (await self._session.execute(claimed)).scalar_one()
        return dict(state or {})

    async def put(self, platform: str, user_id: str, state: dict[str, Any]) -> None:
        await self._session.execute(
            update(FloodSenderRow)
            .where(FloodSenderRow.platform == platform, FloodSenderRow.user_id == user_id)
            .values(state=state)
        )

    async def prune(self, before: datetime) -> int:
        """Forget senders not heard from since `before`; how many."""
        result = await self._session.execute(
            delete(FloodSenderRow).where(FloodSenderRow.seen_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
