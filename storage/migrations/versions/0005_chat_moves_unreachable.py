"""Chat moves: the id a platform gave a configured chat after the config was written (a
Telegram group upgraded to a supergroup); people the bot cannot write to in private (they never
pressed Start, or blocked the bot).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "chat_moves",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("chat_key", sa.String(64), primary_key=True),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("from_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_chat_moves_chat_id", "chat_moves", ["platform", "chat_id"], unique=True)
    op.create_table(
        "unreachable_people",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("unreachable_people")
    op.drop_index("ix_chat_moves_chat_id", table_name="chat_moves")
    op.drop_table("chat_moves")
