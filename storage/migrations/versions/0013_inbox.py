"""The inbox: updates delivered by a webhook, stored before the webhook is answered and
handled in order per chat by any worker (handlers/inbox.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat", sa.String(100), nullable=False),
        sa.Column("update_key", sa.String(100), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("platform", "update_key", name="uq_inbox_update"),
    )
    op.create_index("ix_inbox_chat_handled", "inbox", ["chat", "handled_at", "id"])
    op.create_index("ix_inbox_handled", "inbox", ["handled_at"])


def downgrade() -> None:
    op.drop_table("inbox")
