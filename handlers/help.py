"""/huongdan: what the sender can do, by role (the lines come from `handlers.commands`)."""

from __future__ import annotations

from core import messages as msg
from core.chat import Reply, reply
from handlers.context import Request


async def help_(req: Request) -> list[Reply]:
    # Imported here: the registry lists this very command, so it imports this module first.
    from handlers.commands import help_lines

    role = req.actor.role
    cal = req.catalogue.calendar
    due = f"{msg.WEEKDAY_NAMES[cal.due_weekday]} hằng tuần, trước {cal.due_time:%H:%M}"
    role_name = msg.ROLE_NAMES[role.value if role else None]
    if req.actor.unit is not None:
        role_name += f" của {req.actor.unit.name}"
    return [reply(msg.help_text(req.catalogue.title, role_name, help_lines(role), due))]
