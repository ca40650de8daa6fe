"""State any worker can use: chart files served by URL (`media`) and the step-by-step
report drafts (`form_drafts`), both out of process memory.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_media_expires_at", "media", ["expires_at"])
    op.create_table(
        "form_drafts",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("chat_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question_id", sa.String(64), nullable=True),
        sa.Column("last_message_id", sa.BigInteger(), nullable=False),
        sa.Column("taken", sa.JSON(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("period", sa.String(10), nullable=True),
    )
    op.create_index("ix_form_drafts_expires_at", "form_drafts", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_form_drafts_expires_at", table_name="form_drafts")
    op.drop_table("form_drafts")
    op.drop_index("ix_media_expires_at", table_name="media")
    op.drop_table("media")
