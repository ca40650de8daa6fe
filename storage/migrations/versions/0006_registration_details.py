"""Registrations: the sender's platform username and the text of their request, so admins can
tell two people with the same display name apart; an index for the daily limits and pruning.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("username", sa.String(64), nullable=True))
        batch.add_column(sa.Column("request_text", sa.String(300), nullable=True))
    op.create_index("ix_registrations_created", "registrations", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_registrations_created", table_name="registrations")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("request_text")
        batch.drop_column("username")
