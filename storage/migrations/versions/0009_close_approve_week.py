"""Closing and approving a week: correction requests for closed weeks and week approvals.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when models.py does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "week_approvals",
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("by_name", sa.String(200), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
    )
    op.create_table(
        "correction_requests",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("sender_platform", sa.String(16), nullable=False),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("sender_name", sa.String(200), nullable=False),
        sa.Column("chat", sa.String(64), nullable=False),
        sa.Column("sent_at", When, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("old_values", sa.JSON(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_by_name", sa.String(200), nullable=True),
        sa.Column("decided_at", When, nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
    )
    op.create_index("ix_corrections_status", "correction_requests", ["status", "id"])
    op.create_index("ix_corrections_decided", "correction_requests", ["decided_at"])


def downgrade() -> None:
    op.drop_index("ix_corrections_decided", table_name="correction_requests")
    op.drop_index("ix_corrections_status", table_name="correction_requests")
    op.drop_table("correction_requests")
    op.drop_table("week_approvals")
