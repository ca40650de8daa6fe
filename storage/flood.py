"""Per-sender flood state shared by every worker on PostgreSQL (migration 0015,
`handlers.flood.SharedFloodGuard`): one row per sender, its state as JSON. Like every
repository it never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FloodSenderRow

# Every counted message runs these: built once (per dialect), as `UpdateLog`'s are.
_TABLE = cast(Table, FloodSenderRow.__table__)


def _claim(insert: Any) -> Any:
    statement = insert(_TABLE).values(
        platform=bindparam("platform"),
        user_id=bindparam("user_id"),
        state=bindparam("empty", type_=_TABLE.c.state.type),
        seen_at=bindparam("now", type_=_TABLE.c.seen_at.type),
    )
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.platform, _TABLE.c.user_id],
        set_={"seen_at": statement.excluded.seen_at},
    ).returning(_TABLE.c.state)


_CLAIM = {"sqlite": _claim(sqlite.insert), "postgresql": _claim(postgresql.insert)}
_PUT = (
    update(_TABLE)
    .where(_TABLE.c.platform == bindparam("p"), _TABLE.c.user_id == bindparam("u"))
    .values(state=bindparam("state", type_=_TABLE.c.state.type))
)


class FloodSenders:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, platform: str, user_id: str, now: datetime) -> dict[str, Any]:
        """The sender's state ({} for one not heard from), its row locked until the
        transaction ends: the upsert's ON CONFLICT DO UPDATE takes the row lock on
        PostgreSQL, so two workers counting one sender's messages take turns."""
        dialect = self._session.get_bind().dialect.name
        result = await self._session.execute(
            _CLAIM[dialect], {"platform": platform, "user_id": user_id, "empty": {}, "now": now}
        )
        return dict(result.scalar_one() or {})

    async def put(self, platform: str, user_id: str, state: dict[str, Any]) -> None:
        await self._session.execute(_PUT, {"p": platform, "u": user_id, "state": state})

    async def prune(self, before: datetime) -> int:
        """Forget senders not heard from since `before`; how many."""
        result = await self._session.execute(
            delete(FloodSenderRow).where(FloodSenderRow.seen_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
