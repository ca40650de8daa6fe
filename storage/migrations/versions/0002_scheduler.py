"""Scheduler: posts made by jobs and nudges, and the leaders' nudges.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Self-contained on purpose: a migration must not change when models.py does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "posts_made",
        sa.Column("job_id", sa.String(200), primary_key=True),
        sa.Column("recipient", sa.String(100), primary_key=True),
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("at", When, nullable=False),
    )
    op.create_index("ix_posts_made_period", "posts_made", ["period"])
    op.create_table(
        "nudges",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
    )
    op.create_index("ix_nudges_unit_at", "nudges", ["unit", "at"])


def downgrade() -> None:
    op.drop_index("ix_nudges_unit_at", table_name="nudges")
    op.drop_table("nudges")
    op.drop_index("ix_posts_made_period", table_name="posts_made")
    op.drop_table("posts_made")
