"""Send windows shared by every worker: booked sends per scope, and on PostgreSQL the
function that books one (`storage.send_windows`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

# BIGINT is not an alias of the rowid on SQLite, so it would not autoincrement there.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# One call books a send in one or more windows (a group chat's, then the bot's), given in
# the same order by every caller. It takes their advisory locks (held to the end of the
# statement's transaction), so bookings of a scope are serialised. The slot is the first
# moment at which each window holds fewer than its limit and its last quarter fewer than a
# quarter of it (rounded up): now, or the latest of "the limit-th latest booking plus the
# window" and "the quarter-th latest plus a quarter window". The quarter rule spreads a
# burst: 29 sends booked at one instant leave together and reach Telegram over a busy event
# loop's 100-150 ms, some of them after the next second's first ones (measured: 429s). It
# applies to windows of at most 5 seconds (the bot's second): against a group's
# minute that lateness is nothing, and spreading its 20 would keep the sixth reply of a
# burst in a group waiting 15 s (the bench's group replies had a p95 of 6.2 s with it).
# A window before the last that is full now books nothing and answers when to ask again:
# a send waiting for a group's minute holds no slot of the bot's second, and every booking
# is at the moment it will be sent, so a scope's bookings are in time order. Times are the
# server's (clock_timestamp(), after the locks): workers on several hosts agree. Plpgsql
# reads with a new snapshot per statement (READ COMMITTED), so the booking committed by the
# locks' previous holder is seen.
RESERVE_FUNCTION = """
CREATE OR REPLACE FUNCTION reserve_send_slot(
    p_scopes text[], p_limits integer[], p_windows float8[],
    OUT wait float8, OUT booked boolean
) LANGUAGE plpgsql AS $$
DECLARE
    n integer := array_length(p_scopes, 1);
    now_ts timestamptz;
    slot timestamptz;
    kth timestamptz;
    span interval;
BEGIN
    FOR i IN 1..n LOOP
        PERFORM pg_advisory_xact_lock(hashtext('send_slots:' || p_scopes[i]));
    END LOOP;
    now_ts := clock_timestamp();
    slot := now_ts;
    FOR i IN 1..n LOOP
        span := make_interval(secs => p_windows[i]);
        SELECT at INTO kth FROM send_slots WHERE scope = p_scopes[i]
            ORDER BY at DESC OFFSET p_limits[i] - 1 LIMIT 1;
        IF kth IS NOT NULL AND kth + span > slot THEN
            slot := kth + span;
        END IF;
        IF p_windows[i] <= 5 THEN
            SELECT at INTO kth FROM send_slots WHERE scope = p_scopes[i]
                ORDER BY at DESC OFFSET (p_limits[i] + 3) / 4 - 1 LIMIT 1;
            IF kth IS NOT NULL AND kth + span / 4 > slot THEN
                slot := kth + span / 4;
            END IF;
        END IF;
        IF i < n AND slot > now_ts THEN
            wait := extract(epoch FROM slot - now_ts);
            booked := false;
            RETURN;
        END IF;
    END LOOP;
    FOR i IN 1..n LOOP
        INSERT INTO send_slots (scope, at) VALUES (p_scopes[i], slot);
        DELETE FROM send_slots WHERE scope = p_scopes[i]
            AND at <= now_ts - make_interval(secs => p_windows[i]);
    END LOOP;
    IF random() < 0.01 THEN  -- scopes gone quiet keep their last rows until this sweep
        DELETE FROM send_slots WHERE at < now_ts - interval '1 hour';
    END IF;
    wait := extract(epoch FROM slot - now_ts);
    booked := true;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "send_slots",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_send_slots_scope_at", "send_slots", ["scope", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RESERVE_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS reserve_send_slot(text[], integer[], float8[])")
    op.drop_index("ix_send_slots_scope_at", table_name="send_slots")
    op.drop_table("send_slots")
