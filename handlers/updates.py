"""Deliveries the engine never sees (Zalo's photos and stickers): recorded once, so an
update the platform delivers again is answered once.

Text messages carry their key to `Engine.handle`, which records it in the transaction of the
work it causes; this is the same record for messages that cause no work.
"""

from __future__ import annotations

from datetime import datetime

from storage import Database


async def record_update(db: Database, platform: str, key: str, now: datetime) -> bool:
    """True the first time `key` is seen on `platform` (and records it), False after."""
    async with db.unit_of_work() as uow:
        first = await uow.updates.first_time(platform, key, now)
        await uow.commit()
    return first
