"""Repositories of closed weeks: correction requests and week approvals (migration 0009).
Like every repository they never commit; the unit of work does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.closing import ACCEPTED, APPROVED, PENDING, Correction, WeekApproval
from core.submission import Sender
from storage.models import CorrectionRow, WeekApprovalRow


def _correction(row: CorrectionRow) -> Correction:
    return Correction(
        id=row.id,
        unit=row.unit,
        period=row.period,
        values={k: int(v) for k, v in row.values.items()},
        sender=Sender(row.sender_platform, row.sender_id, row.sender_name),
        chat=row.chat,
        raw_text=row.raw_text,
        sent_at=row.sent_at,
        created_at=row.created_at,
        warnings=tuple(row.warnings),
        status=row.status,
        old_values=None
        if row.old_values is None
        else {k: int(v) for k, v in row.old_values.items()},
        decided_by=row.decided_by,
        decided_by_name=row.decided_by_name,
        decided_at=row.decided_at,
        version=row.version,
    )


def _approval(row: WeekApprovalRow) -> WeekApproval:
    return WeekApproval(row.period, row.status, row.by, row.by_name, row.at, row.note)


class CorrectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        unit: str,
        period: str,
        values: Mapping[str, int],
        sender: Sender,
        chat: str,
        raw_text: str,
        sent_at: datetime,
        at: datetime,
        warnings: tuple[str, ...] = (),
    ) -> Correction:
        """A request waiting for an admin."""
        return await self._insert(
            unit, period, values, sender, chat, raw_text, sent_at, at, warnings, status=PENDING
        )

    async def add_approved(
        self,
        unit: str,
        period: str,
        values: Mapping[str, int],
        sender: Sender,
        chat: str,
        raw_text: str,
        sent_at: datetime,
        at: datetime,
        old_values: Mapping[str, int],
        version: int,
        warnings: tuple[str, ...] = (),
    ) -> Correction:
        """A change already stored by its author's own decision (an admin's import into a
        closed week), recorded as approved by them at `at`, so the history marks it and the
        next digest announces it as it does an approved request."""
        return await self._insert(
            unit,
            period,
            values,
            sender,
            chat,
            raw_text,
            sent_at,
            at,
            warnings,
            status=ACCEPTED,
            old_values=dict(old_values),
            decided_by=f"{sender.platform}:{sender.user_id}",
            decided_by_name=sender.name,
            decided_at=at,
            version=version,
        )

    async def _insert(
        self,
        unit: str,
        period: str,
        values: Mapping[str, int],
        sender: Sender,
        chat: str,
        raw_text: str,
        sent_at: datetime,
        at: datetime,
        warnings: tuple[str, ...],
        **decision: Any,
    ) -> Correction:
        row = CorrectionRow(
            unit=unit,
            period=period,
            values=dict(values),
            raw_text=raw_text,
            warnings=list(warnings),
            sender_platform=sender.platform,
            sender_id=sender.user_id,
            sender_name=sender.name,
            chat=chat,
            sent_at=sent_at,
            created_at=at,
            **decision,
        )
        self._session.add(row)
        await self._session.flush()
        return _correction(row)

    async def get(self, id: int) -> Correction | None:
        row = await self._session.get(CorrectionRow, id)
        return None if row is None else _correction(row)

    async def pending(self) -> list[Correction]:
        query = (
            select(CorrectionRow).where(CorrectionRow.status == PENDING).order_by(CorrectionRow.id)
        )
        return [_correction(r) for r in await self._session.scalars(query)]

    async def pending_for(self, unit: str, period: str, platform: str, user_id: str) -> list[int]:
        """The sender's requests still waiting for this unit and period."""
        query = select(CorrectionRow.id).where(
            CorrectionRow.status == PENDING,
            CorrectionRow.unit == unit,
            CorrectionRow.period == period,
            CorrectionRow.sender_platform == platform,
            CorrectionRow.sender_id == user_id,
        )
        return list(await self._session.scalars(query))

    async def decide(
        self,
        id: int,
        status: str,
        by: str,
        by_name: str,
        at: datetime,
        old_values: Mapping[str, int] | None = None,
        version: int | None = None,
    ) -> bool:
        """Decide a pending request; False when it was no longer pending (decided by
        someone else meanwhile)."""
        result = await self._session.execute(
            update(CorrectionRow)
            .where(CorrectionRow.id == id, CorrectionRow.status == PENDING)
            .values(
                status=status,
                decided_by=by,
                decided_by_name=by_name,
                decided_at=at,
                old_values=None if old_values is None else dict(old_values),
                version=version,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def approved_between(self, start: datetime, end: datetime) -> list[Correction]:
        """Approvals decided in `(start, end]`, oldest first."""
        query = (
            select(CorrectionRow)
            .where(
                CorrectionRow.status == ACCEPTED,
                CorrectionRow.decided_at > start,
                CorrectionRow.decided_at <= end,
            )
            .order_by(CorrectionRow.decided_at, CorrectionRow.id)
        )
        return [_correction(r) for r in await self._session.scalars(query)]

    async def approved_for_period(self, period: str) -> list[Correction]:
        query = (
            select(CorrectionRow)
            .where(CorrectionRow.status == ACCEPTED, CorrectionRow.period == period)
            .order_by(CorrectionRow.id)
        )
        return [_correction(r) for r in await self._session.scalars(query)]

    async def adjusted(self, periods: Sequence[str]) -> set[tuple[str, str]]:
        """(unit, period) of the approved changes to these periods."""
        if not periods:
            return set()
        query = select(CorrectionRow.unit, CorrectionRow.period).where(
            CorrectionRow.status == ACCEPTED, CorrectionRow.period.in_(periods)
        )
        return {(unit, period) for unit, period in await self._session.execute(query)}


class WeekApprovals:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, period: str) -> WeekApproval | None:
        row = await self._session.get(WeekApprovalRow, period)
        if row is None:
            return None
        return _approval(row)

    async def standing(self, periods: Sequence[str]) -> dict[str, WeekApproval]:
        """The approvals that stand (not reopened) among these periods, by period."""
        if not periods:
            return {}
        query = select(WeekApprovalRow).where(
            WeekApprovalRow.period.in_(periods), WeekApprovalRow.status == APPROVED
        )
        return {row.period: _approval(row) for row in await self._session.scalars(query)}

    async def set(self, approval: WeekApproval) -> None:
        row = await self._session.get(WeekApprovalRow, approval.period)
        if row is None:
            row = WeekApprovalRow(period=approval.period)
            self._session.add(row)
        row.status = approval.status
        row.by = approval.by
        row.by_name = approval.by_name
        row.at = approval.at
        row.note = approval.note
        await self._session.flush()
