"""Repositories: read and write `core` dataclasses. None of them commits; the unit of work does."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import EllipsisType
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Integer,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.submission import PendingReport, Registration, Sender, Submission
from storage.models import (
    AuditRow,
    ChatMoveRow,
    FormDraftRow,
    MediaRow,
    NudgeRow,
    OutgoingCountRow,
    PendingImportRow,
    PendingRow,
    PostRow,
    ProcessedUpdate,
    RegistrationRow,
    SubmissionRow,
    UnreachableRow,
)

# The statements a report costs are Core statements on the session's connection, not ORM ones
# (no unit-of-work bookkeeping, no entity loading), built once with bind parameters so that
# SQLAlchemy compiles each once and then finds it in its cache (docs/PERFORMANCE.md).
SUBMISSIONS = cast(Table, SubmissionRow.__table__)
PENDING_REPORTS = cast(Table, PendingRow.__table__)
AUDIT_LOG = cast(Table, AuditRow.__table__)
_S = SUBMISSIONS.c
_IS_CURRENT = _S.is_current.is_(True)
_P = PENDING_REPORTS.c
# What a Submission is read from, in this order (see `_submission`).
_SUBMISSION_COLUMNS = (
    _S.unit,
    _S.period,
    _S.version,
    _S["values"],
    _S.late,
    _S.sent_at,
    _S.sender_platform,
    _S.sender_id,
    _S.sender_name,
    _S.chat,
    _S.raw_text,
    _S.warnings,
    _S.is_current,
)
_RECENT = (
    select(*_SUBMISSION_COLUMNS)
    .where(_S.unit == bindparam("unit"), _S.period <= bindparam("period"), _IS_CURRENT)
    .order_by(_S.period.desc())
    .limit(bindparam("limit", type_=Integer))
)
_CURRENT = select(*_SUBMISSION_COLUMNS).where(
    _S.unit == bindparam("unit"), _S.period == bindparam("period"), _IS_CURRENT
)
_SUPERSEDE = (  # an UPDATE's bind names must differ from its columns' names
    update(SUBMISSIONS)
    .where(_S.unit == bindparam("of_unit"), _S.period == bindparam("of_period"), _IS_CURRENT)
    .values(is_current=False)
)
_INSERT_SUBMISSION = insert(SUBMISSIONS)
_INSERT_AUDIT = insert(AUDIT_LOG)
_PENDING_KEY = (_P.platform == bindparam("platform"), _P.user_id == bindparam("user_id"))
_DELETE_PENDING = delete(PENDING_REPORTS).where(*_PENDING_KEY)
_GET_PENDING = select(PENDING_REPORTS).where(*_PENDING_KEY)
_INSERT_PENDING = insert(PENDING_REPORTS)


async def _core(session: AsyncSession) -> AsyncConnection:
    """The session's connection, for Core statements in the session's transaction. Changes
    the session still holds are flushed first, so the statement sees them."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()


PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
# An approved person an admin took back (/thuhoi): suspended may be lifted, revoked is final
# (the person may ask again with /dangky).
SUSPENDED = "suspended"
REVOKED = "revoked"


def _submission(row: Sequence[Any]) -> Submission:
    """A Submission from a row of `_SUBMISSION_COLUMNS`."""
    (
        unit,
        period,
        version,
        values,
        late,
        sent_at,
        platform,
        sender_id,
        sender_name,
        chat,
        raw_text,
        warnings,
        current,
    ) = row
    return Submission(
        unit=unit,
        period=period,
        version=version,
        values=dict(values),
        late=late,
        sent_at=sent_at,
        sender=Sender(platform, sender_id, sender_name),
        chat=chat,
        raw_text=raw_text,
        warnings=tuple(warnings),
        current=current,
    )


class ReportedValues(NamedTuple):
    """A current report's figures, as tables need them: a national digest reads 26,000 (a
    tuple is made several times faster than a frozen dataclass)."""

    period: str
    unit: str
    values: dict[str, int]
    late: bool


def _reported(rows: Sequence[Any]) -> list[ReportedValues]:
    """ReportedValues from rows of (period, unit, values as JSON text, late)."""
    if not rows:
        return []
    raw = [row[2] for row in rows]
    if isinstance(raw[0], str):
        decoded = json.loads("[" + ",".join(raw) + "]")
    else:  # asyncpg decodes JSON itself
        decoded = [dict(v) for v in raw]
    return [
        ReportedValues(row[0], row[1], values, bool(row[3]))
        for row, values in zip(rows, decoded, strict=True)
    ]


def _submission_row(sub: Submission, version: int, received_at: datetime) -> dict[str, Any]:
    return {
        "unit": sub.unit,
        "period": sub.period,
        "version": version,
        "is_current": True,
        "values": dict(sub.values),
        "raw_text": sub.raw_text,
        "warnings": list(sub.warnings),
        "sender_platform": sub.sender.platform,
        "sender_id": sub.sender.user_id,
        "sender_name": sub.sender.name,
        "chat": sub.chat,
        "sent_at": sub.sent_at,
        "received_at": received_at,
        "late": sub.late,
    }


class SubmissionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _rows(self, statement: Any, **params: Any) -> list[Submission]:
        connection = await _core(self._session)
        return [_submission(row) for row in await connection.execute(statement, params)]

    async def _list(
        self, *where: Any, order: Sequence[Any], limit: int | None = None
    ) -> list[Submission]:
        query = select(*_SUBMISSION_COLUMNS).where(*where).order_by(*order).limit(limit)
        return await self._rows(query)

    async def current(self, unit: str, period: str) -> Submission | None:
        rows = await self._rows(_CURRENT, unit=unit, period=period)
        return rows[0] if rows else None

    async def current_for_period(self, period: str) -> list[Submission]:
        return await self.current_for_periods([period])

    async def current_for_periods(self, periods: Sequence[str]) -> list[Submission]:
        if not periods:
            return []
        return await self._list(_S.period.in_(periods), _IS_CURRENT, order=(_S.period, _S.unit))

    async def current_values(
        self, periods: Sequence[str], units: AbstractSet[str] | None = None
    ) -> list[ReportedValues]:
        """Only what tables need (period, unit, values, late) of the current reports, in no
        particular order: no ORM objects, so a national digest reads tens of thousands of rows
        quickly. `units`: only these units' (a scoped chat's), left out before decoding."""
        if not periods:
            return []
        # Core columns (no ORM layer per row); on SQLite the values as their JSON text, decoded
        # below in one call, which shares the field names' strings: a national digest reads
        # 26,000 rows, and decoding each on its own was the largest part of its time.
        table = cast(Table, SubmissionRow.__table__)
        c = table.c
        result = await self._session.execute(
            select(c.period, c.unit, type_coerce(c["values"], String), c.late).where(
                c.period.in_(periods), c.is_current.is_(True)
            )
        )
        rows = result.all()
        if units is not None:
            rows = [row for row in rows if row[1] in units]
        return _reported(rows)

    async def latest_before(self, period: str) -> list[ReportedValues]:
        """Each unit's current report of the latest period before `period` (a monthly
        report's figures carried in from the weeks before it)."""
        table = cast(Table, SubmissionRow.__table__)
        c = table.c
        latest = (
            select(c.unit, func.max(c.period).label("period"))
            .where(c.period < period, c.is_current.is_(True))
            .group_by(c.unit)
            .subquery()
        )
        result = await self._session.execute(
            select(c.period, c.unit, type_coerce(c["values"], String), c.late)
            .join(latest, (c.unit == latest.c.unit) & (c.period == latest.c.period))
            .where(c.is_current.is_(True))
        )
        return _reported(result.all())

    async def has_reports(self, period: str) -> bool:
        query = (
            select(SubmissionRow.id)
            .where(SubmissionRow.period == period, SubmissionRow.is_current.is_(True))
            .limit(1)
        )
        return await self._session.scalar(query) is not None

    async def history(self, unit: str, before: str, limit: int) -> list[Submission]:
        """Current reports of `unit` for periods before `before`, newest first.

        Period keys are zero-padded, so comparing them as strings orders them in time.
        """
        return await self._list(
            _S.unit == unit, _S.period < before, _IS_CURRENT, order=(_S.period.desc(),), limit=limit
        )

    async def recent(self, unit: str, period: str, limit: int) -> list[Submission]:
        """Current reports of `unit` up to and including `period`, newest first: the
        period's own (if any) and `limit` before it, in one query."""
        return await self._rows(_RECENT, unit=unit, period=period, limit=limit + 1)

    async def versions(self, unit: str, period: str) -> list[Submission]:
        return await self._list(_S.unit == unit, _S.period == period, order=(_S.version,))

    async def add(
        self,
        sub: Submission,
        received_at: datetime,
        replacing: Submission | EllipsisType | None = ...,
    ) -> Submission:
        """Store `sub` as the new current version; `sub.version` is ignored and reassigned.

        `replacing` is the current version the caller has just read in this unit of work
        (None: there is none); it saves reading it again, one of the few statements a report
        costs. Left out, the newest version is looked up.
        """
        if isinstance(replacing, EllipsisType):
            latest = await self._session.scalar(
                select(func.max(SubmissionRow.version)).where(
                    SubmissionRow.unit == sub.unit, SubmissionRow.period == sub.period
                )
            )
            version, stale = (latest or 0) + 1, latest is not None
        else:
            # The current version is the newest one: versions are only ever added as current.
            version = replacing.version + 1 if replacing is not None else 1
            stale = replacing is not None
        connection = await _core(self._session)
        if stale:
            # Executed before the INSERT, so the one-current-row index never sees two current
            # rows. A concurrent add for the same report fails on the unique version instead
            # of silently forking history.
            await connection.execute(_SUPERSEDE, {"of_unit": sub.unit, "of_period": sub.period})
        await connection.execute(_INSERT_SUBMISSION, _submission_row(sub, version, received_at))
        return replace(sub, version=version, current=True)

    async def add_first_versions(self, items: Sequence[tuple[Submission, datetime]]) -> None:
        """A bulk load (synthetic data, imports): store each submission, with the time it was
        received, as the first and current version of its unit and period, the very row `add`
        stores for a first report. A unit and period that already has one fails the load."""
        if items:
            rows = [_submission_row(sub, 1, received_at) for sub, received_at in items]
            # Core, not the ORM's bulk path: the same columns and types, a fraction of the work.
            connection = await self._session.connection()
            await connection.execute(insert(cast(Table, SubmissionRow.__table__)), rows)

    async def periods_with_reports(self, limit: int) -> list[str]:
        query = (
            select(SubmissionRow.period)
            .where(SubmissionRow.is_current.is_(True))
            .distinct()
            .order_by(SubmissionRow.period.desc())
            .limit(limit)
        )
        return list(await self._session.scalars(query))

    async def count_current(self) -> int:
        query = (
            select(func.count())
            .select_from(SubmissionRow)
            .where(SubmissionRow.is_current.is_(True))
        )
        return await self._session.scalar(query) or 0

    async def versions_for_period(self, period: str) -> list[Submission]:
        """Every version of every unit's report for `period`, by unit then version: one
        query where asking `versions` unit by unit costs one per unit."""
        query = (
            select(*_SUBMISSION_COLUMNS)
            .where(SubmissionRow.period == period)
            .order_by(SubmissionRow.unit, SubmissionRow.version)
        )
        return await self._rows(query)


def _registration(row: Any) -> Registration:
    """From a RegistrationRow or a Core row of the registrations table."""
    return Registration(
        id=row.id,
        sender=Sender(row.platform, row.user_id, row.display_name),
        unit=row.unit,
        role=row.role,
        status=row.status,
        created_at=row.created_at,
        decided_by=row.decided_by,
    )


@dataclass(frozen=True)
class RegistrationInfo:
    """A registration with what tells its sender apart from others of the same name."""

    registration: Registration
    username: str
    request: str
    first_seen: datetime


def _info(row: RegistrationRow, first_seen: datetime) -> RegistrationInfo:
    return RegistrationInfo(
        _registration(row), row.username or "", row.request_text or "", first_seen
    )


def _aware(value: datetime | str) -> datetime:
    """An aggregate's timestamp as an aware UTC datetime (SQLite gives text, naive UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_R = cast(Table, RegistrationRow.__table__).c
_LATEST_REGISTRATION = (
    select(cast(Table, RegistrationRow.__table__))
    .where(
        _R.platform == bindparam("platform"),
        _R.user_id == bindparam("user_id"),
        _R.status == bindparam("status"),
    )
    .order_by(_R.created_at.desc(), _R.id.desc())
    .limit(1)
)


class RegistrationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        sender: Sender,
        unit: str,
        role: str,
        at: datetime,
        username: str = "",
        request: str = "",
    ) -> Registration:
        row = RegistrationRow(
            platform=sender.platform,
            user_id=sender.user_id,
            display_name=sender.name,
            unit=unit,
            role=role,
            status=PENDING,
            created_at=at,
            username=username[:64] or None,
            request_text=request[:300] or None,
        )
        self._session.add(row)
        await self._session.flush()  # assigns the id
        return _registration(row)

    async def get(self, id: int) -> Registration | None:
        row = await self._session.get(RegistrationRow, id)
        return None if row is None else _registration(row)

    async def pending(self, since: datetime | None = None) -> list[Registration]:
        """Requests waiting for a decision, oldest first; `since`: only those made at or
        after it (older ones have expired)."""
        return [info.registration for info in await self.pending_details(since)]

    async def pending_details(self, since: datetime | None = None) -> list[RegistrationInfo]:
        """`pending` with what tells the people asking apart (username, request, first seen)."""
        query = select(RegistrationRow).where(RegistrationRow.status == PENDING)
        if since is not None:
            query = query.where(RegistrationRow.created_at >= since)
        rows = list(
            await self._session.scalars(
                query.order_by(RegistrationRow.created_at, RegistrationRow.id)
            )
        )
        first = await self._first_seen({(r.platform, r.user_id) for r in rows})
        return [_info(row, first[(row.platform, row.user_id)]) for row in rows]

    async def _first_seen(self, senders: set[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
        """When each sender first asked (any request of theirs still stored)."""
        if not senders:
            return {}
        users = {user for _, user in senders}
        rows = await self._session.execute(
            select(
                RegistrationRow.platform,
                RegistrationRow.user_id,
                func.min(RegistrationRow.created_at),
            )
            .where(RegistrationRow.user_id.in_(users))
            .group_by(RegistrationRow.platform, RegistrationRow.user_id)
        )
        # min() of a timestamp comes back as text on SQLite: parse it through the column type.
        out: dict[tuple[str, str], datetime] = {}
        for platform, user, at in rows:
            if (platform, user) in senders:
                out[(platform, user)] = _aware(at)
        return out

    async def count_since(
        self, since: datetime, platform: str | None = None, user_id: str | None = None
    ) -> int:
        """Requests made at or after `since`, by one sender or by everyone."""
        query = select(func.count()).where(RegistrationRow.created_at >= since)
        if platform is not None and user_id is not None:
            query = query.where(
                RegistrationRow.platform == platform, RegistrationRow.user_id == user_id
            )
        return await self._session.scalar(query) or 0

    async def reject_all_pending(self, by: str, at: datetime) -> list[Registration]:
        """Refuse every request still waiting (expired ones too: they go the same way)."""
        rows = list(
            await self._session.scalars(
                select(RegistrationRow)
                .where(RegistrationRow.status == PENDING)
                .order_by(RegistrationRow.created_at, RegistrationRow.id)
            )
        )
        for row in rows:
            row.status, row.decided_by, row.decided_at = REJECTED, by, at
        await self._session.flush()
        return [_registration(row) for row in rows]

    async def people(self) -> list[RegistrationInfo]:
        """Everyone approved or suspended, one entry per person (their latest such
        registration), by name."""
        query = (
            select(RegistrationRow)
            .where(RegistrationRow.status.in_((APPROVED, SUSPENDED)))
            .order_by(RegistrationRow.created_at.desc(), RegistrationRow.id.desc())
        )
        latest: dict[tuple[str, str], RegistrationRow] = {}
        for row in await self._session.scalars(query):
            latest.setdefault((row.platform, row.user_id), row)
        first = await self._first_seen(set(latest))
        people = [_info(row, first[key]) for key, row in latest.items()]
        return sorted(people, key=lambda p: (p.registration.sender.name, p.registration.id))

    async def set_person_status(
        self, platform: str, user_id: str, from_: Sequence[str], to: str, by: str, at: datetime
    ) -> int:
        """Move every registration of one person in a `from_` status to `to`; how many moved.
        All of them: an older approval for another unit must not keep the person in."""
        result = await self._session.execute(
            update(RegistrationRow)
            .where(
                RegistrationRow.platform == platform,
                RegistrationRow.user_id == user_id,
                RegistrationRow.status.in_(tuple(from_)),
            )
            .values(status=to, decided_by=by, decided_at=at)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def prune(self, refused_before: datetime, asked_before: datetime) -> int:
        """Delete refused requests decided before `refused_before` and requests that expired
        unanswered (made before `asked_before`); approved, suspended and revoked ones stay:
        they say who may report. How many were deleted."""
        row = RegistrationRow
        refused = (row.status == REJECTED) & (row.decided_at < refused_before)
        lapsed = (row.status == PENDING) & (row.created_at < asked_before)
        result = await self._session.execute(delete(row).where(refused | lapsed))
        return int(getattr(result, "rowcount", 0) or 0)

    async def decide(self, id: int, status: str, by: str, at: datetime) -> Registration | None:
        if status not in (APPROVED, REJECTED):
            raise ValueError(f"a decision is {APPROVED!r} or {REJECTED!r}, not {status!r}")
        row = await self._session.get(RegistrationRow, id)
        if row is None:
            return None
        row.status, row.decided_by, row.decided_at = status, by, at
        await self._session.flush()
        return _registration(row)

    async def _latest(self, platform: str, user_id: str, status: str) -> Registration | None:
        # Core on the session's connection: every message from someone not in the config
        # (a registered officer) asks this.
        connection = await _core(self._session)
        row = (
            await connection.execute(
                _LATEST_REGISTRATION,
                {"platform": platform, "user_id": user_id, "status": status},
            )
        ).first()
        return None if row is None else _registration(row)

    async def approved_for(self, platform: str, user_id: str) -> Registration | None:
        return await self._latest(platform, user_id, APPROVED)

    async def pending_for(self, platform: str, user_id: str) -> Registration | None:
        return await self._latest(platform, user_id, PENDING)

    async def approved_for_units(self, units: Sequence[str]) -> dict[str, list[Registration]]:
        """Approved people per unit, by each person's latest approval (a person who moved
        to another unit counts there only)."""
        query = (
            select(RegistrationRow)
            .where(RegistrationRow.status == APPROVED)
            .order_by(RegistrationRow.created_at.desc(), RegistrationRow.id.desc())
        )
        latest: dict[tuple[str, str], Registration] = {}
        for row in await self._session.scalars(query):
            latest.setdefault((row.platform, row.user_id), _registration(row))
        wanted = set(units)
        out: dict[str, list[Registration]] = {}
        for reg in latest.values():
            if reg.unit in wanted:
                out.setdefault(reg.unit, []).append(reg)
        return out


class PendingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(self, p: PendingReport, at: datetime) -> None:
        """Hold `p`, replacing whatever its sender had pending."""
        await self.delete(p.sender.platform, p.sender.user_id)
        connection = await _core(self._session)
        await connection.execute(
            _INSERT_PENDING,
            {
                "platform": p.sender.platform,
                "user_id": p.sender.user_id,
                "sender_name": p.sender.name,
                "chat": p.chat,
                "unit": p.unit,
                "period": p.period,
                "late": p.late,
                "values": dict(p.values),
                "raw_text": p.raw_text,
                "sent_at": p.sent_at,
                "warnings": list(p.warnings),
                "created_at": at,
            },
        )

    async def get(self, platform: str, user_id: str) -> PendingReport | None:
        connection = await _core(self._session)
        result = await connection.execute(_GET_PENDING, {"platform": platform, "user_id": user_id})
        row = result.one_or_none()
        if row is None:
            return None
        return PendingReport(
            sender=Sender(row.platform, row.user_id, row.sender_name),
            chat=row.chat,
            unit=row.unit,
            period=row.period,
            late=row.late,
            values=dict(row._mapping["values"]),
            raw_text=row.raw_text,
            sent_at=row.sent_at,
            warnings=tuple(row.warnings),
            held_at=_aware(row.created_at),
        )

    async def delete(self, platform: str, user_id: str) -> None:
        connection = await _core(self._session)
        await connection.execute(_DELETE_PENDING, {"platform": platform, "user_id": user_id})


@dataclass(frozen=True)
class PendingImport:
    """An admin's previewed import: the sheet as read (`core.importing.SheetReading` JSON)."""

    file_name: str
    reading: Mapping[str, Any]
    created_at: datetime


class PendingImports:
    """At most one previewed import per admin, waiting for /xacnhan."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(
        self, platform: str, user_id: str, file_name: str, reading: Mapping[str, Any], at: datetime
    ) -> None:
        """Hold the import, replacing whatever import the admin had waiting."""
        await self.delete(platform, user_id)
        self._session.add(
            PendingImportRow(
                platform=platform,
                user_id=user_id,
                file_name=file_name[:255],
                reading=dict(reading),
                created_at=at,
            )
        )
        await self._session.flush()

    async def get(self, platform: str, user_id: str, since: datetime) -> PendingImport | None:
        """The admin's import previewed at or after `since` (an older one has expired)."""
        row = await self._session.get(PendingImportRow, (platform, user_id))
        if row is None or row.created_at < since:
            return None
        return PendingImport(row.file_name, dict(row.reading), row.created_at)

    async def delete(self, platform: str, user_id: str) -> bool:
        """Drop the admin's import, expired or not; whether there was one."""
        result = await self._session.execute(
            delete(PendingImportRow).where(
                PendingImportRow.platform == platform, PendingImportRow.user_id == user_id
            )
        )
        return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    unit: str | None
    period: str | None
    detail: Mapping[str, Any]


def _audit_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "unit": entry.unit,
        "period": entry.period,
        "detail": dict(entry.detail),
    }


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        at: datetime,
        actor: str,
        action: str,
        unit: str | None = None,
        period: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        entry = AuditEntry(at, actor, action, unit, period, detail or {})
        connection = await _core(self._session)
        await connection.execute(_INSERT_AUDIT, _audit_row(entry))

    async def add_many(self, entries: Sequence[AuditEntry]) -> None:
        """A bulk load: the same rows `add` stores, one per entry."""
        if entries:
            connection = await self._session.connection()
            await connection.execute(
                insert(cast(Table, AuditRow.__table__)), [_audit_row(e) for e in entries]
            )

    async def recent(self, limit: int) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        return [
            AuditEntry(row.at, row.actor, row.action, row.unit, row.period, dict(row.detail))
            for row in await self._session.scalars(query)
        ]


# A platform redelivers an update it thinks was not taken for a while (Telegram: up to 24 h);
# a key seen longer ago than this is not a redelivery but a new update reusing an old id
# (Telegram may start its update ids again after a quiet week).
UPDATE_KEY_LIFETIME = timedelta(days=2)
# Keys are deleted after this (docs/RELIABILITY.md): longer than their lifetime, so pruning
# never decides whether an update is new.
UPDATE_KEY_KEPT = timedelta(days=7)


class UpdateLog:
    """Chat updates already handled, so a redelivered one is not processed twice."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def first_time(self, platform: str, update_key: str, at: datetime) -> bool:
        """True for an update key not seen within `UPDATE_KEY_LIFETIME` before `at` (the key
        is then recorded as seen at `at`)."""
        # ON CONFLICT rather than catching IntegrityError: an error would abort the whole
        # PostgreSQL transaction, and the caller's work shares it. An old key is taken over
        # (its time moved to now) and counts as new.
        connection = await _core(self._session)
        statement = _FIRST_TIME[connection.dialect.name == "postgresql"]
        result = await connection.execute(
            statement,
            {
                "platform": platform,
                "update_key": update_key,
                "at": at,
                "expired": at - UPDATE_KEY_LIFETIME,
            },
        )
        return result.first() is not None

    async def keep(self, platform: str, update_key: str, replies: list[Any]) -> None:
        """Keep the replies (encoded) with a recorded key; `[]` once the update's answer
        reached the platform (or was finally refused): a later handling sends nothing."""
        await self._session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.platform == platform, ProcessedUpdate.update_key == update_key)
            .values(replies=replies)
        )

    async def kept(self, platform: str, update_key: str) -> list[Any] | None:
        """The replies kept with a recorded key and not known to be sent; [] once the
        update was answered; None when nothing was kept (or the key is not recorded)."""
        return cast(
            "list[Any] | None",
            await self._session.scalar(
                select(ProcessedUpdate.replies).where(
                    ProcessedUpdate.platform == platform,
                    ProcessedUpdate.update_key == update_key,
                )
            ),
        )

    async def prune(self, before: datetime) -> int:
        """Forget keys recorded before `before`; how many."""
        result = await self._session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _first_time(insert: Any) -> Any:
    table = cast(Table, ProcessedUpdate.__table__)
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.update_key],
        # Taken over: the replies kept for the old update are not this one's.
        set_={"at": statement.excluded.at, "replies": None},
        where=table.c.at < bindparam("expired", type_=ProcessedUpdate.__table__.c.at.type),
    ).returning(table.c.update_key)


# Every message from a platform with update ids runs it: built once per dialect.
_FIRST_TIME = (_first_time(sqlite.insert), _first_time(postgresql.insert))


class OutgoingCounter:
    """Messages sent per platform and month, and whether admins were warned about it."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _insert(self) -> Any:
        dialect = self._session.get_bind().dialect.name
        return postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def add(self, platform: str, month: str, n: int = 1) -> int:
        """Count `n` more messages; returns the month's new total. One statement, so two
        processes counting at once both land."""
        statement = self._insert()(OutgoingCountRow).values(
            platform=platform, month=month, count=n, warned=False
        )
        statement = statement.on_conflict_do_update(
            index_elements=[OutgoingCountRow.platform, OutgoingCountRow.month],
            set_={"count": OutgoingCountRow.count + n},
        ).returning(OutgoingCountRow.count)
        return int(await self._session.scalar(statement) or 0)

    async def count(self, platform: str, month: str) -> int:
        row = await self._session.get(OutgoingCountRow, (platform, month))
        return 0 if row is None else row.count

    async def claim_warning(self, platform: str, month: str) -> bool:
        """True for exactly one caller per platform and month: the one that should warn."""
        result = await self._session.execute(
            update(OutgoingCountRow)
            .where(
                OutgoingCountRow.platform == platform,
                OutgoingCountRow.month == month,
                OutgoingCountRow.warned.is_(False),
            )
            .values(warned=True)
            .returning(OutgoingCountRow.month)
        )
        return result.first() is not None


class PostLog:
    """Posts made by scheduled jobs and nudges, one row per job, recipient and platform."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def made(self, job_id: str) -> set[tuple[str, str]]:
        """(recipient, platform) pairs already posted for the job."""
        rows = await self._session.execute(
            select(PostRow.recipient, PostRow.platform).where(PostRow.job_id == job_id)
        )
        return {(recipient, platform) for recipient, platform in rows}

    async def record(
        self, job_id: str, recipient: str, platform: str, period: str, at: datetime
    ) -> None:
        # ON CONFLICT DO NOTHING: a post recorded twice (a duplicate after a crash) stays one row.
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self._session.execute(
            insert(PostRow)
            .values(job_id=job_id, recipient=recipient, platform=platform, period=period, at=at)
            .on_conflict_do_nothing()
        )


# The advisory lock nudges are decided under (any constant nothing else uses: "nudg").
NUDGE_LOCK = 0x6E756467


class NudgeLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def recent(self, units: Sequence[str], since: datetime) -> set[str]:
        """Units nudged at or after `since`.

        Read under a lock held to the end of the transaction, so that two nudges at once (two
        leaders, two workers) are decided one after the other: the second reads the first's
        committed rows and leaves those units out. PostgreSQL: a transaction-level advisory
        lock; SQLite: every transaction already holds the write lock (BEGIN IMMEDIATE)."""
        if not units:
            return set()
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": NUDGE_LOCK}
            )
        rows = await self._session.scalars(
            select(NudgeRow.unit).where(NudgeRow.unit.in_(units), NudgeRow.at >= since).distinct()
        )
        return set(rows)

    async def add(self, units: Sequence[str], period: str, at: datetime, by: str) -> None:
        self._session.add_all(NudgeRow(unit=u, period=period, at=at, by=by) for u in units)
        await self._session.flush()

    async def forget(self, units: Sequence[str], at: datetime) -> None:
        """The nudges of `units` made at `at`: they reached no one, so they do not hold back
        the next one."""
        if units:
            await self._session.execute(
                delete(NudgeRow).where(NudgeRow.unit.in_(units), NudgeRow.at == at)
            )


class ChatMoves:
    """The ids configured chats have now where a platform moved them (`chat_moves`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> dict[tuple[str, str], str]:
        """(platform, chat key) -> the chat's id now."""
        rows = await self._session.execute(
            select(ChatMoveRow.platform, ChatMoveRow.chat_key, ChatMoveRow.chat_id)
        )
        return {(platform, key): chat_id for platform, key, chat_id in rows}

    async def key_for(self, platform: str, chat_id: str) -> str | None:
        """The configured chat now living at `chat_id`, if one moved there."""
        return await self._session.scalar(
            select(ChatMoveRow.chat_key).where(
                ChatMoveRow.platform == platform, ChatMoveRow.chat_id == chat_id
            )
        )

    async def record(
        self, platform: str, chat_key: str, from_id: str, chat_id: str, at: datetime
    ) -> None:
        """The chat's new id; recorded again (both service messages, the send error, another
        process) it stays one row."""
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(ChatMoveRow).values(
            platform=platform, chat_key=chat_key, chat_id=chat_id, from_id=from_id, at=at
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[ChatMoveRow.platform, ChatMoveRow.chat_key],
                set_={"chat_id": chat_id, "from_id": from_id, "at": at},
                where=ChatMoveRow.chat_id != chat_id,
            )
        )


@dataclass(frozen=True)
class UnreachablePerson:
    platform: str
    user_id: str
    person_key: str
    name: str
    reason: str
    at: datetime


class UnreachablePeople:
    """People the bot cannot write to in private, per platform id (`unreachable_people`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def mark(self, person: UnreachablePerson) -> None:
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {
            "platform": person.platform,
            "user_id": person.user_id,
            "person_key": person.person_key,
            "name": person.name[:200],
            "reason": person.reason[:300],
            "at": person.at,
        }
        statement = insert(UnreachableRow).values(**values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[UnreachableRow.platform, UnreachableRow.user_id],
                set_={k: v for k, v in values.items() if k not in ("platform", "user_id")},
            )
        )

    async def clear(self, platform: str, user_id: str) -> None:
        await self._session.execute(
            delete(UnreachableRow).where(
                UnreachableRow.platform == platform, UnreachableRow.user_id == user_id
            )
        )

    async def ids(self) -> set[tuple[str, str]]:
        """(platform, user id) of everyone listed."""
        rows = await self._session.execute(select(UnreachableRow.platform, UnreachableRow.user_id))
        return {(platform, user_id) for platform, user_id in rows}

    async def all(self) -> list[UnreachablePerson]:
        """Everyone listed, by name."""
        rows = await self._session.scalars(
            select(UnreachableRow).order_by(UnreachableRow.name, UnreachableRow.platform)
        )
        return [
            UnreachablePerson(r.platform, r.user_id, r.person_key, r.name, r.reason, r.at)
            for r in rows
        ]


class MediaFiles:
    """Files served under unguessable tokens until they expire (Zalo fetches charts by URL)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: str, content_type: str, data: bytes, expires_at: datetime) -> None:
        self._session.add(
            MediaRow(token=token, content_type=content_type, data=data, expires_at=expires_at)
        )
        await self._session.flush()

    async def get(self, token: str, now: datetime) -> tuple[str, bytes] | None:
        """(content type, bytes) of the file under `token`, None when unknown or expired."""
        row = (
            await self._session.execute(
                select(MediaRow.content_type, MediaRow.data).where(
                    MediaRow.token == token, MediaRow.expires_at > now
                )
            )
        ).one_or_none()
        return None if row is None else (row.content_type, bytes(row.data))

    async def count(self, now: datetime) -> int:
        """Files not yet expired."""
        query = select(func.count()).select_from(MediaRow).where(MediaRow.expires_at > now)
        return int(await self._session.scalar(query) or 0)

    async def prune(self, now: datetime) -> int:
        """Delete the files expired at `now`; how many."""
        result = await self._session.execute(delete(MediaRow).where(MediaRow.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class StoredDraft:
    """A step-by-step report draft as stored (`handlers.drafts` gives it meaning)."""

    platform: str
    chat_id: str
    user_id: str
    version: int
    stage: str
    unit: str | None
    values: Mapping[str, int]
    index: int
    fields: tuple[str, ...]
    previous: Mapping[str, int]
    expires_at: datetime
    question_id: str | None
    last_message_id: int
    taken: tuple[int, ...]
    topic: str | None
    # The period key the draft asks figures for (`2024-W46`); None: stored before it was kept.
    period: str | None = None


def _stored_draft(row: FormDraftRow) -> StoredDraft:
    return StoredDraft(
        platform=row.platform,
        chat_id=row.chat_id,
        user_id=row.user_id,
        version=row.version,
        stage=row.stage,
        unit=row.unit,
        values={k: int(v) for k, v in row.values.items()},
        index=row.idx,
        fields=tuple(row.fields),
        previous={k: int(v) for k, v in row.previous.items()},
        expires_at=row.expires_at,
        question_id=row.question_id,
        last_message_id=row.last_message_id,
        taken=tuple(int(n) for n in row.taken),
        topic=row.topic,
        period=row.period,
    )


class FormDrafts:
    """Step-by-step report drafts, one per (platform, chat, member). Every write names the
    version it read and fails (returns False) when another worker wrote in between."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _key(self, platform: str, chat_id: str, user_id: str) -> Any:
        return (
            (FormDraftRow.platform == platform)
            & (FormDraftRow.chat_id == chat_id)
            & (FormDraftRow.user_id == user_id)
        )

    async def get(self, platform: str, chat_id: str, user_id: str) -> StoredDraft | None:
        row = await self._session.scalar(
            select(FormDraftRow).where(self._key(platform, chat_id, user_id))
        )
        return None if row is None else _stored_draft(row)

    async def put(self, draft: StoredDraft, read_version: int | None) -> bool:
        """Store `draft` (its `version` the new one): a new draft when `read_version` is None
        (replacing any other of the member's in that chat not started from the same message),
        else only over `read_version`. False when nothing was stored."""
        columns = {
            "version": draft.version,
            "stage": draft.stage,
            "unit": draft.unit,
            "values": dict(draft.values),
            "idx": draft.index,
            "fields": list(draft.fields),
            "previous": dict(draft.previous),
            "expires_at": draft.expires_at,
            "question_id": draft.question_id,
            "last_message_id": draft.last_message_id,
            "taken": list(draft.taken),
            "topic": draft.topic,
            "period": draft.period,
        }
        key = self._key(draft.platform, draft.chat_id, draft.user_id)
        if read_version is None:
            older = key
            if draft.last_message_id:  # not one started from this very message elsewhere
                older = key & (FormDraftRow.last_message_id != draft.last_message_id)
            await self._session.execute(delete(FormDraftRow).where(older))
            # Two workers starting the same member's draft at once (a redelivered /baocao):
            # the second insert does nothing and says so, instead of failing the transaction.
            dialect = self._session.get_bind().dialect.name
            insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
            row = {
                "platform": draft.platform,
                "chat_id": draft.chat_id,
                "user_id": draft.user_id,
                **columns,
            }
            result = await self._session.execute(
                insert_(FormDraftRow).values(**row).on_conflict_do_nothing()
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1
        result = await self._session.execute(
            update(FormDraftRow)
            .where(key, FormDraftRow.version == read_version)
            .values(**columns)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def set_question(
        self, platform: str, chat_id: str, user_id: str, version: int, question_id: str
    ) -> None:
        """Which message asked the current question, if the draft is still at `version`
        (the version stays: this is not an answer)."""
        await self._session.execute(
            update(FormDraftRow)
            .where(self._key(platform, chat_id, user_id), FormDraftRow.version == version)
            .values(question_id=question_id)
            .execution_options(synchronize_session=False)
        )

    async def delete(self, platform: str, chat_id: str, user_id: str, version: int) -> bool:
        """Delete the draft if it is still at `version`; False when another worker got there
        first (it changed, finished or expired it)."""
        result = await self._session.execute(
            delete(FormDraftRow)
            .where(self._key(platform, chat_id, user_id), FormDraftRow.version == version)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def expired(self, platform: str, now: datetime, limit: int = 100) -> list[StoredDraft]:
        """Drafts of `platform` expired at `now`, oldest first (claim each with `delete`)."""
        query = (
            select(FormDraftRow)
            .where(FormDraftRow.platform == platform, FormDraftRow.expires_at <= now)
            .order_by(FormDraftRow.expires_at)
            .limit(limit)
        )
        return [_stored_draft(row) for row in await self._session.scalars(query)]


class LeaseLog:
    """Leases (`storage.lease`), judged by the database's clock, never the process's: a lease
    is taken when it is free or expired (its token then grows by one) and renewed only by its
    holder under the token it was taken with, while it has not expired."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"

    def _now(self, plus_seconds: bool = False) -> str:
        """The database's current time (plus `:ttl` seconds) as an SQL expression."""
        if self._postgres:
            return "now() + make_interval(secs => :ttl)" if plus_seconds else "now()"
        # SQLite: the same text format SQLAlchemy writes, to the millisecond.
        shift = ", :shift" if plus_seconds else ""
        return f"strftime('%Y-%m-%d %H:%M:%f', 'now'{shift})"

    def _ttl(self, ttl: float) -> dict[str, Any]:
        return {"ttl": ttl} if self._postgres else {"shift": f"+{ttl:.3f} seconds"}

    async def take(self, name: str, holder: str, ttl: float) -> int | None:
        """Take the lease if it is free, expired or already `holder`'s: the new fencing
        token, or None while another holder's lease lives. One statement: two takers at once
        are ordered by the row lock, and the second finds the first's live lease."""
        row = await self._session.execute(
            text(
                "INSERT INTO leases (name, holder, token, expires_at) "
                f"VALUES (:name, :holder, 1, {self._now(True)}) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "token = leases.token + 1, expires_at = excluded.expires_at "
                f"WHERE leases.expires_at <= {self._now()} OR leases.holder = excluded.holder "
                "RETURNING token"
            ),
            {"name": name, "holder": holder, **self._ttl(ttl)},
        )
        token = row.scalar_one_or_none()
        return None if token is None else int(token)

    async def renew(self, name: str, holder: str, token: int, ttl: float) -> bool:
        """Push the expiry `ttl` seconds past now; False when the lease expired or another
        holder took it (the token changed)."""
        result = await self._session.execute(
            text(
                f"UPDATE leases SET expires_at = {self._now(True)} "
                "WHERE name = :name AND holder = :holder AND token = :token "
                f"AND expires_at > {self._now()}"
            ),
            {"name": name, "holder": holder, "token": token, **self._ttl(ttl)},
        )
        return cast(int, getattr(result, "rowcount", 0)) == 1

    async def current(self, name: str, holder: str, token: int) -> bool:
        """The lease is still `holder`'s under `token` and has not expired."""
        row = await self._session.execute(
            text(
                "SELECT 1 FROM leases WHERE name = :name AND holder = :holder "
                f"AND token = :token AND expires_at > {self._now()}"
            ),
            {"name": name, "holder": holder, "token": token},
        )
        return row.first() is not None

    async def release(self, name: str, holder: str, token: int) -> None:
        """Let the lease expire now (another process may take it at once)."""
        await self._session.execute(
            text(
                f"UPDATE leases SET expires_at = {self._now()} "
                "WHERE name = :name AND holder = :holder AND token = :token"
            ),
            {"name": name, "holder": holder, "token": token},
        )

    async def expiry(self, name: str) -> tuple[str, int, str] | None:
        """(holder, token, expiry as stored): changes whenever the lease is renewed."""
        row = await self._session.execute(
            text(
                "SELECT holder, token, CAST(expires_at AS VARCHAR(40)) FROM leases "
                "WHERE name = :name"
            ),
            {"name": name},
        )
        found = row.first()
        return None if found is None else (str(found[0]), int(found[1]), str(found[2]))

    async def state(self, name: str) -> tuple[str, int, bool] | None:
        """(holder, token, still live) of the lease, None when it was never taken."""
        row = await self._session.execute(
            text(
                f"SELECT holder, token, expires_at > {self._now()} FROM leases WHERE name = :name"
            ),
            {"name": name},
        )
        found = row.first()
        return None if found is None else (str(found[0]), int(found[1]), bool(found[2]))
