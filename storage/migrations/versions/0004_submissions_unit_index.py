"""Index the current reports of a unit.

Without it SQLite answers "the current report of unit U for period P" through the
(period, is_current) index, reading every report of the period: during a national week
each new report scanned all that came before it. The same index serves a unit's history
(newest periods first).

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_submissions_unit_current", "submissions", ["unit", "is_current", "period"])


def downgrade() -> None:
    op.drop_index("ix_submissions_unit_current", table_name="submissions")
