"""The statements every report runs, sent on SQLite straight to the sqlite3 connection.

With statements in the event loop (storage/sqlite_inline.py), SQLAlchemy's execution of a
cached Core statement (execution context, Result, a greenlet per call) was still most of a
report's time, many times what sqlite3 itself spends on the statement (docs/PERFORMANCE.md).
A `Prepared` statement is a Core statement compiled once per dialect, by SQLAlchemy, with
SQLAlchemy's own bind and result processors for its types (UTC datetimes, JSON, booleans), so
it stores and reads exactly what the Core statement would; on SQLite it runs on the driver
connection, inside the transaction the unit of work opened. On any other database it is
executed by SQLAlchemy as usual.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection

Processor = Callable[[Any], Any] | None
# Where the begin hook (storage/db.py) leaves the sqlite3 connection of a pooled connection.
SQLITE_KEY = "sqlite3"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bind parameters, in the order of the `?`s
    binds: tuple[Processor, ...]
    fixed: dict[str, Any]  # values the statement itself carries (`x IS 1`, `SET y = 0`)
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, its result processor)


class Prepared:
    """A Core statement, and its SQLite form compiled on first use."""

    def __init__(self, statement: Any, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement  # a Core SELECT, INSERT, UPDATE or DELETE
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._sqlite: _Compiled | None = None

    def _compiled(self, dialect: Dialect) -> _Compiled:
        if self._sqlite is None:
            compiled: Any = self.statement.compile(dialect=dialect, column_keys=self._column_keys)
            names = tuple(compiled.positiontup or ())
            params = [compiled.binds[name] for name in names]
            binds = tuple(p.type.dialect_impl(dialect).bind_processor(dialect) for p in params)
            pairs = zip(names, params, strict=True)
            fixed = {n: p.effective_value for n, p in pairs if not p.required}
            # Result processors for a SELECT's columns (what RETURNING gives back is read as is).
            columns = getattr(self.statement, "selected_columns", ())
            results = [
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
            ]
            converted = tuple((i, p) for i, p in enumerate(results) if p is not None)
            self._sqlite = _Compiled(compiled.string, names, binds, fixed, converted)
        return self._sqlite

    async def rows(self, connection: AsyncConnection, params: Mapping[str, Any]) -> list[Any]:
        """The rows the statement returns (none for plain DML), in the transaction of
        `connection`, a unit of work's connection."""
        driver: sqlite3.Connection | None = connection.info.get(SQLITE_KEY)
        if driver is None:
            result = await connection.execute(self.statement, dict(params))
            return list(result.all()) if result.returns_rows else []
        c = self._compiled(connection.dialect)
        given = (params[n] if n in params else c.fixed[n] for n in c.names)
        try:
            args = [v if bind is None else bind(v) for bind, v in zip(c.binds, given, strict=True)]
        except (TypeError, ValueError) as exc:  # a value its type refuses (a naive datetime)
            raise StatementError(str(exc), c.sql, dict(params), exc) from exc
        try:
            rows = driver.execute(c.sql, args).fetchall()
        except sqlite3.Error as exc:
            # As SQLAlchemy would raise it (OperationalError, IntegrityError, …), so callers
            # see one kind of storage failure whichever way a statement went.
            raise DBAPIError.instance(c.sql, args, exc, sqlite3.Error) from exc
        if rows and c.converted:
            out = []
            for row in rows:
                values = list(row)
                for i, process in c.converted:
                    values[i] = process(values[i])
                out.append(tuple(values))
            return out
        return rows
