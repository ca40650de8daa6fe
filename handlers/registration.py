"""/dangky and /duyet: a person asks to report for a unit, an admin approves."""

from __future__ import annotations

from core import messages as msg
from core.catalogue import Role
from core.chat import Reply, reply
from core.text import key
from handlers.common import Refusal, clip, find_unit
from handlers.context import Request

MAX_REGISTRATION_ID = 2**63 - 1  # BIGINT on PostgreSQL


async def register(req: Request) -> list[Reply]:
    actor = req.actor
    text = req.args.strip()
    if not text:
        return [reply(msg.register_usage())]
    unit = find_unit(req.catalogue, text)
    async with req.transaction() as uow:
        sender = actor.sender
        waiting = await uow.registrations.pending_for(sender.platform, sender.user_id)
        if waiting is not None:
            return [reply(msg.registration_waiting(req.catalogue.unit(waiting.unit).name))]
        registration = await uow.registrations.add(
            actor.sender, unit.code, Role.OFFICER.value, req.now()
        )
        await uow.audit.add(
            req.now(), actor=_actor_id(req), action="registration.request", unit=unit.code
        )
        await uow.commit()
    return [reply(msg.registration_sent(registration.id, unit.name))]


async def approve(req: Request) -> list[Reply]:
    words = req.args.split()
    if not words:
        async with req.transaction() as uow:
            waiting = await uow.registrations.pending()
        lines = [
            msg.registration_line(r.id, r.sender.name, _unit_name(req, r.unit), r.sender.platform)
            for r in waiting
        ]
        return [reply(msg.registration_list(lines))]
    number = words[0].lstrip("#")
    reject = key(" ".join(words[1:])).replace(" ", "") in {"tuchoi", "khong", "reject", "no"}
    # A number no registration can have (beyond the id column's range) is simply not found.
    # (checked by length first: int() refuses strings of thousands of digits).
    valid = number.isdecimal() and len(number) <= 19 and 0 < int(number) <= MAX_REGISTRATION_ID
    status = "rejected" if reject else "approved"
    async with req.transaction() as uow:
        found = await uow.registrations.get(int(number)) if valid else None
        if found is None or found.status != "pending":
            raise Refusal(msg.registration_missing(clip(number, 20)))
        decided = await uow.registrations.decide(found.id, status, _actor_id(req), req.now())
        assert decided is not None
        await uow.audit.add(
            req.now(),
            actor=_actor_id(req),
            action=f"registration.{status}",
            unit=found.unit,
            detail={
                "registration": found.id,
                "user": f"{found.sender.platform}:{found.sender.user_id}",
            },
        )
        await uow.commit()
    unit = _unit_name(req, found.unit)
    if reject:
        return [reply(msg.registration_rejected(found.sender.name, unit))]
    return [reply(msg.registration_approved(found.sender.name, unit))]


def _unit_name(req: Request, code: str) -> str:
    return req.catalogue.unit(code).name if req.catalogue.has_unit(code) else code


def _actor_id(req: Request) -> str:
    return f"{req.actor.sender.platform}:{req.actor.sender.user_id}"
