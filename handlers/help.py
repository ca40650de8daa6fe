"""/huongdan: what the sender can do, by role."""

from __future__ import annotations

from core import messages as msg
from core.catalogue import Role
from core.chat import Reply, reply
from handlers.context import Request


async def help_(req: Request) -> list[Reply]:
    role = req.actor.role
    lines: list[str]
    if role is None:
        lines = msg.HELP_STRANGER
    elif role is Role.OFFICER:
        lines = msg.HELP_OFFICER + msg.HELP_COMMON
    elif role is Role.ADMIN:
        lines = msg.HELP_COMMON + msg.HELP_STAFF + msg.HELP_ADMIN
    else:
        lines = msg.HELP_COMMON + msg.HELP_STAFF
    if req.actor.is_staff:
        lines = [*lines, msg.HELP_NUDGE]
    cal = req.catalogue.calendar
    due = f"{msg.WEEKDAY_NAMES[cal.due_weekday]} hằng tuần, trước {cal.due_time:%H:%M}"
    role_name = msg.ROLE_NAMES[role.value if role else None]
    if req.actor.unit is not None:
        role_name += f" của {req.actor.unit.name}"
    return [reply(msg.help_text(req.catalogue.title, role_name, lines, due))]
