"""People the bot cannot write to in private, as the admins see them in `/trangthai`.

A platform's refusal of a private message that only the person can lift (Telegram's 403 "bot
can't initiate conversation" / "bot was blocked", 400 "chat not found") marks them in
`handlers.notify`; a later message that goes through clears the mark. Their reminders are
never counted as sent.
"""

from __future__ import annotations

from core import messages as msg
from core.chat import Text
from handlers.context import Request
from storage import UnitOfWork
from storage.repositories import UnreachablePerson


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
