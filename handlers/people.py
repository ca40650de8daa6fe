"""/thuhoi: the people approved through /dangky, and taking their access back.

`/thuhoi` lists them; `/thuhoi <số|tên>` revokes (final: they may ask again with /dangky),
`… tamdung` suspends and `… molai` lifts a suspension. Whoever is not approved any more is a
stranger from their next message on: the engine looks every sender up afresh.
"""

from __future__ import annotations

from core import messages as msg
from core.chat import Reply, reply
from core.text import key
from handlers.common import Refusal, clip
from handlers.context import Request
from handlers.registration import fit
from storage.repositories import APPROVED, REVOKED, SUSPENDED, RegistrationInfo

_SUSPEND = {"tamdung", "suspend"}
_RESUME = {"molai", "resume"}


async def revoke(req: Request) -> list[Reply]:
    words = req.args.split()
    action = "revoke"
    if words and key(words[-1]) in _SUSPEND:
        action, words = "suspend", words[:-1]
    elif words and key(words[-1]) in _RESUME:
        action, words = "resume", words[:-1]
    query = " ".join(words)
    now = req.now()
    actor = f"{req.actor.sender.platform}:{req.actor.sender.user_id}"
    async with req.transaction() as uow:
        people = await uow.registrations.people()
        if not query:
            if action != "revoke":
                raise Refusal(msg.person_missing(""))
            return [reply(fit([_line(req, p) for p in people], msg.people_list))]
        person = _find(req, people, query)
        sender = person.registration.sender
        suspended = person.registration.status == SUSPENDED
        if action == "suspend" and suspended:
            raise Refusal(msg.person_already_suspended(sender.name))
        if action == "resume" and not suspended:
            raise Refusal(msg.person_not_suspended(sender.name))
        moves = {
            "revoke": ((APPROVED, SUSPENDED), REVOKED),
            "suspend": ((APPROVED,), SUSPENDED),
            "resume": ((SUSPENDED,), APPROVED),
        }
        from_, to = moves[action]
        await uow.registrations.set_person_status(
            sender.platform, sender.user_id, from_, to, actor, now
        )
        await uow.audit.add(
            now,
            actor=actor,
            action=f"person.{action}",
            unit=person.registration.unit,
            detail={
                "registration": person.registration.id,
                "user": f"{sender.platform}:{sender.user_id}",
                "name": sender.name,
            },
        )
        unit = _unit_name(req, person.registration.unit)
        text = {
            "revoke": msg.person_revoked,
            "suspend": msg.person_suspended,
            "resume": msg.person_resumed,
        }[action](sender.name, unit)
        return await req.commit_answer(uow, [reply(text)])


def _find(req: Request, people: list[RegistrationInfo], query: str) -> RegistrationInfo:
    """The person a number (their registration's) or a name means; a Refusal otherwise."""
    number = query.lstrip("#")
    if number.isdecimal() and len(number) <= 19:
        for person in people:
            if person.registration.id == int(number):
                return person
    wanted = key(query)
    exact = [p for p in people if key(p.registration.sender.name) == wanted]
    found = exact or [p for p in people if wanted and wanted in key(p.registration.sender.name)]
    handle = query.lstrip("@").casefold()
    found = found or [p for p in people if p.username and p.username.casefold() == handle]
    if len(found) == 1:
        return found[0]
    if not found:
        raise Refusal(msg.person_missing(clip(query, 40)))
    raise Refusal(msg.person_ambiguous(clip(query, 40), [_line(req, p) for p in found[:20]]))


def _line(req: Request, person: RegistrationInfo) -> str:
    registration = person.registration
    return msg.person_line(
        registration.id,
        clip(registration.sender.name, 60),
        registration.sender.platform,
        registration.sender.user_id,
        person.username,
        _unit_name(req, registration.unit),
        registration.status == SUSPENDED,
    )


def _unit_name(req: Request, code: str) -> str:
    return req.catalogue.unit(code).name if req.catalogue.has_unit(code) else code
