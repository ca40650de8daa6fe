"""Alembic environment: runs only on a connection handed over by `storage.db.migrate`."""

from __future__ import annotations

from alembic import context

from storage.models import Base, app_owned


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through storage.db.migrate(), which passes a connection")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables for later migrations.
        render_as_batch=True,
        include_name=app_owned,  # Procrastinate's tables are its own (migration 0011)
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
