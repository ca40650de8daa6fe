"""The outbox's rows (migration 0011): posts written in the transaction that caused them and
drained per chat in id order by `handlers.outbox`. Like every repository it never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxRow

DUE, MADE, NONE, FAILED = "due", "made", "none", "failed"


@dataclass(frozen=True)
class QueuedPost:
    """One row to send: `recipient` and `payload` as stored (handlers.outbox reads them)."""

    id: int
    job_id: str
    record_key: str
    platform: str
    chat: str
    period: str
    recipient: dict[str, Any]
    payload: dict[str, Any]
    attempts: int
    next_at: datetime
    give_up_at: datetime
    error: str | None
    notice: dict[str, Any] | None


def _queued(row: OutboxRow) -> QueuedPost:
    return QueuedPost(
        row.id,
        row.job_id,
        row.record_key,
        row.platform,
        row.chat,
        row.period,
        row.recipient,
        row.payload,
        row.attempts,
        row.next_at,
        row.give_up_at,
        row.error,
        row.notice,
    )


@dataclass(frozen=True)
class NewPost:
    job_id: str
    record_key: str
    platform: str
    chat: str
    period: str
    recipient: dict[str, Any]
    payload: dict[str, Any]
    give_up_at: datetime
    notice: dict[str, Any] | None = None


class Outbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, posts: Sequence[NewPost], now: datetime) -> int:
        """Enqueue each post unless a row of its (job, record key, platform) exists already
        (ON CONFLICT DO NOTHING: enqueued once whoever enqueues it again). Returns how many
        rows were added."""
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        added = 0
        for post in posts:
            result = await self._session.execute(
                insert(OutboxRow)
                .values(
                    job_id=post.job_id,
                    record_key=post.record_key,
                    platform=post.platform,
                    chat=post.chat,
                    period=post.period,
                    recipient=post.recipient,
                    payload=post.payload,
                    state=DUE,
                    attempts=0,
                    next_at=now,
                    give_up_at=post.give_up_at,
                    created_at=now,
                    notice=post.notice,
                )
                .on_conflict_do_nothing()
            )
            added += max(getattr(result, "rowcount", 0) or 0, 0)
        return added

    async def rearm(self, job_id: str, now: datetime) -> None:
        """The job's rows still to send are due now (the job was run again on purpose: a
        catch-up, a take-over): their backoff ends."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.job_id == job_id, OutboxRow.state == DUE, OutboxRow.next_at > now)
            .values(next_at=now)
        )

    async def head(self, chat: str, limit: int) -> list[QueuedPost]:
        """The chat's rows still to send, oldest first (the drain stops at the first one
        not due yet: order per chat is kept)."""
        rows = await self._session.scalars(
            select(OutboxRow)
            .where(OutboxRow.chat == chat, OutboxRow.state == DUE)
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        return [_queued(row) for row in rows]

    async def due_chats(self, now: datetime) -> list[str]:
        """Chats whose oldest row to send is due (a backoff over, or never drained)."""
        first = (
            select(OutboxRow.chat, func.min(OutboxRow.id).label("first"))
            .where(OutboxRow.state == DUE)
            .group_by(OutboxRow.chat)
            .subquery()
        )
        rows = await self._session.scalars(
            select(OutboxRow.chat)
            .join(first, OutboxRow.id == first.c.first)
            .where(OutboxRow.next_at <= now)
            .order_by(OutboxRow.id)
        )
        return list(rows)

    async def finish(self, ids: Sequence[int], state: str, now: datetime) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(list(ids)))
            .values(state=state, done_at=now, next_at=now)
        )

    async def refused(
        self, ids: Sequence[int], attempts: int, next_at: datetime, error: str
    ) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(list(ids)), OutboxRow.state == DUE)
            .values(attempts=attempts, next_at=next_at, error=error[:2000])
        )

    async def give_up(self, job_id: str, chat: str, now: datetime) -> list[QueuedPost]:
        """The job's rows still to send in `chat` are failed now. Returns the job's rows that
        did not go, oldest first: failed ones, and ones still being refused elsewhere (for
        the admins' one notice)."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.job_id == job_id, OutboxRow.chat == chat, OutboxRow.state == DUE)
            .values(state=FAILED, done_at=now)
        )
        rows = await self._session.scalars(
            select(OutboxRow)
            .where(
                OutboxRow.job_id == job_id,
                (OutboxRow.state == FAILED) | ((OutboxRow.state == DUE) & (OutboxRow.attempts > 0)),
            )
            .order_by(OutboxRow.id)
        )
        return [_queued(row) for row in rows]

    async def backlog(self, now: datetime, stale_before: datetime) -> tuple[int, int]:
        """(rows due now, rows due since before `stale_before`) still to send."""
        due = OutboxRow.state == DUE
        count = await self._session.scalar(
            select(func.count()).select_from(OutboxRow).where(due, OutboxRow.next_at <= now)
        )
        stale = await self._session.scalar(
            select(func.count()).select_from(OutboxRow).where(due, OutboxRow.next_at < stale_before)
        )
        return int(count or 0), int(stale or 0)

    async def waiting(self) -> dict[str, datetime]:
        """Chat -> when its oldest row to send is next tried."""
        first = (
            select(func.min(OutboxRow.id).label("first"))
            .where(OutboxRow.state == DUE)
            .group_by(OutboxRow.chat)
            .subquery()
        )
        rows = await self._session.execute(
            select(OutboxRow.chat, OutboxRow.next_at).where(OutboxRow.id.in_(select(first.c.first)))
        )
        return {chat: at for chat, at in rows}

    async def outcome(self, job_id: str) -> list[tuple[str, str, str, int, str | None]]:
        """(record key, platform, state, attempts, error) of the job's rows, in order."""
        rows = await self._session.execute(
            select(
                OutboxRow.record_key,
                OutboxRow.platform,
                OutboxRow.state,
                OutboxRow.attempts,
                OutboxRow.error,
            )
            .where(OutboxRow.job_id == job_id)
            .order_by(OutboxRow.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    async def prune(self, done_before: datetime) -> int:
        """Delete rows sent, closed or given up before `done_before` (a made post stays in
        `posts_made`, which keeps it from being enqueued again)."""
        result = await self._session.execute(
            delete(OutboxRow).where(OutboxRow.state != DUE, OutboxRow.done_at < done_before)
        )
        return max(getattr(result, "rowcount", 0) or 0, 0)

    async def states(self, job_id: str) -> dict[tuple[str, str], str]:
        """(record key, platform) -> state, for the job's rows."""
        rows = await self._session.execute(
            select(OutboxRow.record_key, OutboxRow.platform, OutboxRow.state).where(
                OutboxRow.job_id == job_id
            )
        )
        return {(key, platform): state for key, platform, state in rows}
