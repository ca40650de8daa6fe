"""Persistence: SQLite or PostgreSQL behind repositories and a unit of work."""

from storage.db import normalize_url
from storage.uow import Database, UnitOfWork

__all__ = ["Database", "UnitOfWork", "normalize_url"]
