"""The outbox: every post without a message to answer, written in the transaction that caused
it and drained per chat (handlers/outbox.py); on PostgreSQL also Procrastinate's own schema,
whose `deliver` tasks drain it across workers (bot/queue_worker.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("job_id", sa.String(200), nullable=False),
        sa.Column("record_key", sa.String(100), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat", sa.String(140), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("notice", sa.JSON(), nullable=True),
        sa.UniqueConstraint("job_id", "record_key", "platform", name="uq_outbox_post"),
    )
    op.create_index("ix_outbox_chat_state", "outbox", ["chat", "state", "id"])
    op.create_index("ix_outbox_state_next", "outbox", ["state", "next_at"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _procrastinate_schema(bind)


def _procrastinate_schema(bind: sa.Connection) -> None:
    """Procrastinate's schema (its `schema.sql`, the version pinned in pyproject.toml), in
    this migration's transaction. A multi-statement script: run through the driver's own
    `execute` (asyncpg runs a script without arguments as one simple query)."""
    from procrastinate.schema import SchemaManager
    from sqlalchemy.util import await_only

    if bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is not None:
        return  # applied already (by hand, or by an earlier run of this migration)
    driver = bind.connection.driver_connection
    if driver is None:
        raise RuntimeError("no driver connection to apply Procrastinate's schema on")
    await_only(driver.execute(SchemaManager.get_schema()))


def downgrade() -> None:
    op.drop_index("ix_outbox_state_next", table_name="outbox")
    op.drop_index("ix_outbox_chat_state", table_name="outbox")
    op.drop_table("outbox")
