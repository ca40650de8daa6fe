"""The inbox's rows (migration 0013): updates a webhook delivered, stored before it was
answered and handled per chat in id order by `handlers.inbox`. Like every repository it
never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxRow


@dataclass(frozen=True)
class StoredUpdate:
    """The chat's oldest waiting update, claimed (the chat is the caller's)."""

    id: int
    platform: str
    body: dict[str, Any]
    attempts: int  # handlings begun, the one `claim` begins included


class Inbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self, platform: str, chat: str, key: str, body: dict[str, Any], now: datetime
    ) -> bool:
        """Store the update unless one of its (platform, key) is stored already (the
        platform delivering it again); True when it was added."""
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        result = await self._session.execute(
            insert(InboxRow)
            .values(
                platform=platform,
                chat=chat,
                update_key=key,
                body=body,
                received_at=now,
                attempts=0,
            )
            .on_conflict_do_nothing()
        )
        return (getattr(result, "rowcount", 0) or 0) > 0

    async def claim(self, chat: str) -> StoredUpdate | None:
        """The chat's oldest update not handled yet, its handling counted as begun (one
        statement); None when none is left. `attempts` is the count with this one."""
        oldest = (
            select(InboxRow.id)
            .where(InboxRow.chat == chat, InboxRow.handled_at.is_(None))
            .order_by(InboxRow.id)
            .limit(1)
            .scalar_subquery()
        )
        row = (
            await self._session.execute(
                update(InboxRow)
                .where(InboxRow.id == oldest)
                .values(attempts=InboxRow.attempts + 1)
                .returning(InboxRow.id, InboxRow.platform, InboxRow.body, InboxRow.attempts)
            )
        ).first()
        return None if row is None else StoredUpdate(*row)

    async def handled(self, ids: Sequence[int], now: datetime) -> None:
        await self._session.execute(
            update(InboxRow).where(InboxRow.id.in_(list(ids))).values(handled_at=now)
        )

    async def waiting_chats(self) -> list[str]:
        """Chats with an update not handled yet, the longest waiting first."""
        rows = await self._session.scalars(
            select(InboxRow.chat)
            .where(InboxRow.handled_at.is_(None))
            .group_by(InboxRow.chat)
            .order_by(func.min(InboxRow.id))
        )
        return list(rows)

    async def backlog(self, stale_before: datetime) -> tuple[int, int]:
        """(updates not handled yet, of which received before `stale_before`)."""
        waiting = InboxRow.handled_at.is_(None)
        count = await self._session.scalar(
            select(func.count()).select_from(InboxRow).where(waiting)
        )
        stale = await self._session.scalar(
            select(func.count())
            .select_from(InboxRow)
            .where(waiting, InboxRow.received_at < stale_before)
        )
        return int(count or 0), int(stale or 0)

    async def prune(self, handled_before: datetime) -> int:
        """Delete updates handled before `handled_before` (their keys no longer catch a
        repeated delivery: the engine's update record still does)."""
        result = await self._session.execute(
            delete(InboxRow).where(InboxRow.handled_at < handled_before)
        )
        return max(getattr(result, "rowcount", 0) or 0, 0)
