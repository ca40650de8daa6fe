"""The tables. Only storage sees these classes; the rest of the app gets `core` dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BIGINT is not an alias of the rowid on SQLite, so it would not autoincrement there.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes only, stored as UTC, read back aware on every backend (SQLite drops tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused, pass a timezone-aware one: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def app_owned(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name`: the app's own schema objects, not Procrastinate's (its
    `procrastinate_*` tables, created by migration 0011 from its own schema.sql)."""
    return not (name or "").startswith("procrastinate_")


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - read once by SQLAlchemy, never mutated
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class SubmissionRow(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("unit", "period", "version", name="uq_submissions_version"),
        Index(
            "uq_submissions_current",
            "unit",
            "period",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_submissions_period_current", "period", "is_current"),
        # A unit's current report and its history (migration 0004).
        Index("ix_submissions_unit_current", "unit", "is_current", "period"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(10))
    version: Mapped[int]
    is_current: Mapped[bool]
    values: Mapped[dict[str, Any]]
    raw_text: Mapped[str] = mapped_column(Text)
    warnings: Mapped[list[str]]
    sender_platform: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[str] = mapped_column(String(64))
    sender_name: Mapped[str] = mapped_column(String(200))
    chat: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    late: Mapped[bool]


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(10))
    detail: Mapped[dict[str, Any]]


class RegistrationRow(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        Index("ix_registrations_user", "platform", "user_id", "status"),
        # The daily limits on requests and the pruning of old ones (migration 0006).
        Index("ix_registrations_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    # The platform's username (Telegram's @name) and what the person wrote (migration 0006).
    username: Mapped[str | None] = mapped_column(String(64))
    request_text: Mapped[str | None] = mapped_column(String(300))


class PendingRow(Base):
    """At most one held report per sender, hence the key."""

    __tablename__ = "pending_reports"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender_name: Mapped[str] = mapped_column(String(200))
    chat: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(10))
    late: Mapped[bool]
    values: Mapped[dict[str, Any]]
    raw_text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
    warnings: Mapped[list[str]]
    created_at: Mapped[datetime]


class ProcessedUpdate(Base):
    __tablename__ = "processed_updates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    # The replies of a command that stored something, kept in its transaction (migration
    # 0014; `handlers.context.Request.commit_answer`): sent again when the update is
    # handled again because its worker died before they were sent.
    replies: Mapped[list[Any] | None] = mapped_column(JSON(), nullable=True)


class FloodSenderRow(Base):
    """A sender's flood state (migration 0015): the times of their last messages, their
    pause and warnings (`handlers.flood`), shared by the workers on PostgreSQL."""

    __tablename__ = "flood_senders"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]]
    seen_at: Mapped[datetime] = mapped_column(index=True)


class OutgoingCountRow(Base):
    """Messages a platform sent in a month, for plans that cap them (Zalo's free plan)."""

    __tablename__ = "outgoing_counts"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2024-11"
    count: Mapped[int]
    warned: Mapped[bool]


class PostRow(Base):
    """A scheduled or nudged post made on one platform: recorded after it was sent, so a job
    run again (after a restart, or by the process that took over) never repeats it."""

    __tablename__ = "posts_made"

    job_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(100), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), index=True)
    at: Mapped[datetime]


class NudgeRow(Base):
    """A leader's nudge of one unit, for the once-per-hour limit."""

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_unit_at", "unit", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(200))


class ChatMoveRow(Base):
    """Where a platform moved a configured chat (a Telegram group upgraded to a supergroup):
    the chat's id now; the config keeps the id it was written with."""

    __tablename__ = "chat_moves"
    __table_args__ = (Index("ix_chat_moves_chat_id", "platform", "chat_id", unique=True),)

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64))
    from_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class UnreachableRow(Base):
    """A person the platform refused a private message to (never pressed Start, blocked the
    bot): listed for the admins until a message to them goes through."""

    __tablename__ = "unreachable_people"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime]


class PendingImportRow(Base):
    """An admin's previewed spreadsheet import, stored only after /xacnhan (migration 0010):
    at most one per admin, read by whichever worker gets the /xacnhan; it expires."""

    __tablename__ = "pending_imports"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    # The sheet as read (core.importing.SheetReading.to_json), checked again at /xacnhan.
    reading: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class MediaRow(Base):
    """A file served under an unguessable URL (a chart Zalo fetches by URL), until it expires:
    in the database, so whichever worker the platform's fetch reaches can serve it."""

    __tablename__ = "media"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class FormDraftRow(Base):
    """A report being typed field by field (the step-by-step `/baocao`), one per member and
    chat: in the database, so whichever worker gets the next answer continues it. `version`
    grows with every write; a write names the version it read (optimistic locking)."""

    __tablename__ = "form_drafts"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    stage: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(64))
    values: Mapped[dict[str, Any]]
    idx: Mapped[int]
    fields: Mapped[list[str]]
    previous: Mapped[dict[str, Any]]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # The platform's ids: the question the bot asked last (a ForceReply), the member's last
    # message taken, the member's recent messages taken (one redelivered is not taken again),
    # and the forum topic.
    question_id: Mapped[str | None] = mapped_column(String(64))
    last_message_id: Mapped[int] = mapped_column(BigInteger)
    taken: Mapped[list[int]] = mapped_column(JSON)
    topic: Mapped[str | None] = mapped_column(String(64))
    # The period key the draft asks figures for: the one its unit was chosen in, so the
    # report is sent for it whenever the last answer comes. NULL: placed when sent.
    period: Mapped[str | None] = mapped_column(String(10))


class WeekApprovalRow(Base):
    """A period a leader approved (its figures final) or an admin reopened since (migration
    0009); the audit log keeps every step."""

    __tablename__ = "week_approvals"

    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # approved, reopened
    by: Mapped[str] = mapped_column(String(200))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(300), default="")


class CorrectionRow(Base):
    """A report for a closed period, waiting for an admin's decision (migration 0009)."""

    __tablename__ = "correction_requests"
    __table_args__ = (
        Index("ix_corrections_status", "status", "id"),
        Index("ix_corrections_decided", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(10))
    values: Mapped[dict[str, Any]]
    raw_text: Mapped[str] = mapped_column(Text)
    warnings: Mapped[list[str]]
    sender_platform: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[str] = mapped_column(String(64))
    sender_name: Mapped[str] = mapped_column(String(200))
    chat: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending, approved, rejected
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSON(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    version: Mapped[int | None]  # the submission version an approval made


class LeaseRow(Base):
    """A lease (storage/lease.py): held by `holder` until `expires_at` by the database's
    clock; `token` grows by one with every new holder (the fencing token)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    token: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]


class SendSlotRow(Base):
    """A send booked in a shared send window (migration 0012, `storage.send_windows`): one
    row per message, by scope (a bot token, or one group chat of it) and the moment it may
    go. Rows older than their window are deleted as new ones are booked."""

    __tablename__ = "send_slots"
    __table_args__ = (Index("ix_send_slots_scope_at", "scope", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class OutboxRow(Base):
    """A post waiting to be sent, or sent (migration 0011): written in the transaction that
    caused it, drained in id order per `chat` (one recipient on one platform) by
    `handlers.outbox`. One row per (job, recipient record key, platform): enqueued once."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("job_id", "record_key", "platform", name="uq_outbox_post"),
        Index("ix_outbox_chat_state", "chat", "state", "id"),
        Index("ix_outbox_state_next", "state", "next_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(200))
    record_key: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(140))  # "platform:chat:key" / "platform:user:key"
    period: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[dict[str, Any]]
    payload: Mapped[dict[str, Any]]  # the neutral Reply; photos and documents as base64 bytes
    state: Mapped[str] = mapped_column(String(8))  # due, made, none (no id there), failed
    attempts: Mapped[int]
    next_at: Mapped[datetime]
    give_up_at: Mapped[datetime]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # What the admins are told when the row is given up: {"kind", "label", "at"}; None: nothing.
    notice: Mapped[dict[str, Any] | None]


class InboxRow(Base):
    """An update a webhook delivered (migration 0013): stored before the webhook is
    answered, handled in id order per `chat` by `handlers.inbox`. One row per (platform,
    update key): a delivery repeated by the platform is stored once."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "update_key", name="uq_inbox_update"),
        Index("ix_inbox_chat_handled", "chat", "handled_at", "id"),
        Index("ix_inbox_handled", "handled_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(100))  # "platform:chat id"
    update_key: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict[str, Any]]  # the update as the platform sent it
    received_at: Mapped[datetime]
    # Handlings begun: one that never ended (the worker died) is begun again, at most
    # `handlers.inbox.ATTEMPTS` times in all.
    attempts: Mapped[int]
    handled_at: Mapped[datetime | None]
