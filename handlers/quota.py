"""A platform's monthly message allowance: count what was sent, warn the admins once.

Zalo's plan allows so many messages a month (`ZALO_MONTHLY_LIMIT`). Every message an adapter
sends is counted here; the first count of a month that reaches 80 % of the limit returns the
warning and whom to send it to, and only that one (the claim is stored with the count).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from core import messages as msg
from core.catalogue import Catalogue, Role
from core.chat import Recipient, Reply, reply
from core.numbers import format_int
from storage import Database

log = logging.getLogger(__name__)

WARN_AT = 0.8  # share of the monthly limit at which admins hear about it


@dataclass(frozen=True)
class QuotaWarning:
    message: Reply
    recipients: tuple[Recipient, ...]  # the admins, as private-chat recipients
    total: int
    month: str


async def count_sent(
    db: Database,
    catalogue: Catalogue,
    platform: str,
    now: datetime,
    n: int,
    limit: int,
) -> QuotaWarning | None:
    """Add `n` sent messages to this month's count; the warning when this count is the one
    that passed the threshold. A database failure is logged, not raised: the messages went."""
    month = catalogue.calendar.local(now).strftime("%Y-%m")
    threshold = math.ceil(limit * WARN_AT)
    try:
        async with db.unit_of_work() as uow:
            total = await uow.outgoing.add(platform, month, n)
            warn = total >= threshold and await uow.outgoing.claim_warning(platform, month)
            await uow.commit()
    except (SQLAlchemyError, OSError):
        log.exception("%s: could not count %d sent messages", platform, n)
        return None
    if not warn:
        return None
    log.warning(
        "%s sent %d messages in %s, limit %d: warning the admins", platform, total, month, limit
    )
    text = msg.zalo_monthly_warning(format_int(total), format_int(limit), month)
    admins = tuple(
        Recipient(p.key, p.name, tuple(sorted(p.ids.items())), group=False)
        for p in catalogue.people
        if p.role is Role.ADMIN
    )
    return QuotaWarning(reply(text), admins, total, month)
