"""Daily pruning of what is no longer needed, so the database does not grow without bound
(what is kept and for how long: docs/RELIABILITY.md). The audit trail is never pruned."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.catalogue import Catalogue
from handlers.flood import SENDERS_KEPT
from handlers.inbox import INBOX_KEPT
from storage import Database
from storage.repositories import UPDATE_KEY_KEPT

log = logging.getLogger(__name__)

# Requests are counted for the per-day limits for a day: never pruned before that.
_COUNTED = timedelta(days=1)
# Outbox rows no longer to send (made, closed, given up) are kept this long, for reading.
OUTBOX_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class Pruned:
    updates: int
    registrations: int
    media: int = 0  # chart files past their expiry (bot/media.py)
    outbox: int = 0  # outbox rows done for longer than OUTBOX_KEPT
    inbox: int = 0  # updates handled longer than INBOX_KEPT ago
    senders: int = 0  # flood states of senders not heard from for SENDERS_KEPT


def registrations_kept(catalogue: Catalogue) -> timedelta:
    """How long a refused or unanswered request is kept: its expiry, and at least as long as
    the daily limits count it."""
    return max(catalogue.registration.expire_after, _COUNTED)


async def prune(catalogue: Catalogue, db: Database, now: datetime) -> Pruned:
    """Delete update keys older than `UPDATE_KEY_KEPT`, requests refused or left
    unanswered longer than `registrations_kept` ago, expired media files, outbox rows done
    for longer than `OUTBOX_KEPT`, updates handled longer than `INBOX_KEPT` ago and the
    flood state of senders not heard from for `SENDERS_KEPT`, in one short transaction."""
    kept = registrations_kept(catalogue)
    async with db.unit_of_work() as uow:
        updates = await uow.updates.prune(now - UPDATE_KEY_KEPT)
        registrations = await uow.registrations.prune(now - kept, now - kept)
        media = await uow.media.prune(now)
        outbox = await uow.outbox.prune(now - OUTBOX_KEPT)
        inbox = await uow.inbox.prune(now - INBOX_KEPT)
        senders = await uow.flood.prune(now - SENDERS_KEPT)
        await uow.commit()
    if updates or registrations or media or outbox or inbox or senders:
        log.info(
            "maintenance: pruned %d update keys, %d old registration requests, %d media "
            "files, %d outbox rows, %d inbox updates and %d senders' flood states",
            updates,
            registrations,
            media,
            outbox,
            inbox,
            senders,
        )
    return Pruned(updates, registrations, media, outbox, inbox, senders)
