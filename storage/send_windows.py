"""Send windows shared by every worker of a deployment on PostgreSQL (`core.chat.SendWindows`).

Each process used to keep its own windows (bot/telegram/limiter.py), so N workers together
sent N times Telegram's limits. Here a send is booked in the database: one statement, run
outside any transaction of the caller (autocommit), calls `reserve_send_slot` (migration
0012), which takes the scopes' advisory locks, books the first free moment in their sliding
windows and answers how long to wait. One round trip per booking (a send to a group whose
minute is full asks again when it has room). SQLite serves one
process: there the in-memory windows are kept and this class is not used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.chat import SendWindow, WindowsUnavailable

RESERVE = text("SELECT wait, booked FROM reserve_send_slot(:scopes, :limits, :windows)")
RESERVE_TIMEOUT = 2.0  # seconds; slower than that, the sender falls back to its own windows


class SharedSendWindows:
    """`core.chat.SendWindows` on the `send_slots` table of a PostgreSQL database;
    WindowsUnavailable when the database fails or does not answer in time."""

    def __init__(self, engine: AsyncEngine, timeout: float = RESERVE_TIMEOUT) -> None:
        # Autocommit: the function's own statement is the transaction (no BEGIN, no COMMIT).
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._timeout = timeout

    async def reserve(self, windows: Sequence[SendWindow]) -> tuple[float, bool]:
        params = {
            "scopes": [w.scope for w in windows],
            "limits": [w.limit for w in windows],
            "windows": [float(w.seconds) for w in windows],
        }
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as connection:
                wait, booked = (await connection.execute(RESERVE, params)).one()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise WindowsUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
        return max(0.0, float(wait)), bool(booked)
