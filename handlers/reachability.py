"""People the bot cannot write to in private, as the admins see them in `/trangthai`.

A platform's refusal of a private message that only the person can lift (Telegram's 403 "bot
can't initiate conversation" / "bot was blocked", 400 "chat not found") marks them
(`mark_unreachable`, from the outbox's drain); a later message that goes through clears the
mark. Their reminders are never counted as sent.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from core import messages as msg
from core.chat import Recipient, Text
from storage import Database, UnitOfWork
from storage.repositories import UnreachablePerson

if TYPE_CHECKING:  # handlers.context imports the outbox, which imports this module
    from handlers.context import Request

log = logging.getLogger(__name__)


async def mark_unreachable(
    db: Database, to: Recipient, platform: str, user_id: str, reason: str, now: datetime
) -> None:
    """Listed for the admins (`/trangthai`) until a message to them goes through."""
    log.warning("%s: %s (%s) cannot get the bot's messages: %s", platform, to.key, to.name, reason)
    async with db.unit_of_work() as uow:
        await uow.unreachable.mark(
            UnreachablePerson(platform, user_id, to.key, to.name, reason, now)
        )
        await uow.commit()


async def unreachable_for(req: Request, uow: UnitOfWork) -> list[UnreachablePerson]:
    """The list, for an admin in a private chat only (names stay out of groups)."""
    if not req.actor.is_admin or req.message.chat_type != "private":
        return []
    return await uow.unreachable.all()


def unreachable_blocks(people: list[UnreachablePerson]) -> list[Text]:
    if not people:
        return []
    lines = [msg.unreachable_header(len(people))]
    lines += [msg.unreachable_person(p.name, p.platform) for p in people]
    lines.append(msg.UNREACHABLE_TELL)
    return [Text.of("\n".join(lines))]
