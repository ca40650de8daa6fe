"""Online backup of a live SQLite database; PostgreSQL is backed up with pg_dump instead.

The sqlite3 backup API copies the database page by page from a read transaction, so the copy
is one consistent snapshot even while the bot keeps writing (WAL mode lets writers go on).
The copy is written next to the target under a temporary name, checked, switched to a
rollback journal (one self-contained file, no -wal sidecar) and only then renamed into place.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import normalize_url


class BackupError(Exception):
    """The backup was not made; the message is one line for the administrator."""


# --- the BackupError messages (Vietnamese: `python -m bot backup` prints them) ---------------


def backup_postgres_refused() -> str:
    return (
        "Lệnh backup chỉ sao lưu SQLite; với PostgreSQL hãy dùng pg_dump "
        '(ví dụ: pg_dump -Fc -f baocao.dump "$DATABASE_URL"), xem docs/RELIABILITY.md.'
    )


def backup_memory_refused() -> str:
    return "Cơ sở dữ liệu SQLite trong bộ nhớ (sqlite://) không có gì để sao lưu."


def backup_source_missing(path: str) -> str:
    return f"Không tìm thấy tệp cơ sở dữ liệu {path} để sao lưu."


def backup_failed(reason: str) -> str:
    return f"Sao lưu không thành công: {reason}"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int  # bytes
    submissions: int  # stored report versions in the copy


def sqlite_path(url: str) -> Path:
    """The database file a URL names, or a BackupError saying why there is none to copy."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(backup_postgres_refused())
    name = parsed.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        raise BackupError(backup_memory_refused())
    return Path(name)


def backup_sqlite(source: Path, out: Path) -> BackupResult:
    """Copy a (possibly live) SQLite database to `out`, replacing it atomically."""
    if not source.is_file():
        raise BackupError(backup_source_missing(str(source)))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        # Read-only: a backup must never create, migrate or lock the live database for writing.
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            partial.unlink(missing_ok=True)
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # pages=-1: the whole database in one step, one snapshot
                dst.execute("PRAGMA journal_mode=DELETE")
                check = dst.execute("PRAGMA integrity_check").fetchone()[0]
                if check != "ok":
                    raise BackupError(backup_failed(f"integrity_check: {check}"))
                submissions = _count(dst, "submissions")
            finally:
                dst.close()
        finally:
            src.close()
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, out)
    except sqlite3.Error as exc:
        raise BackupError(backup_failed(str(exc))) from exc
    except OSError as exc:
        raise BackupError(backup_failed(f"{exc.strerror or exc} ({exc.filename})")) from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return BackupResult(out, out.stat().st_size, submissions)


async def backup(url: str, out: Path) -> BackupResult:
    """Back up the database at `url` without blocking the event loop (the bot keeps running)."""
    return await asyncio.to_thread(backup_sqlite, sqlite_path(url), out)


def _count(connection: sqlite3.Connection, table: str) -> int:
    try:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # an empty or unmigrated database has no such table
        return 0
