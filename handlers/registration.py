"""/dangky and /duyet: a person asks to report for a unit, an admin approves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from core import messages as msg
from core.catalogue import Role
from core.chat import Reply, reply
from core.text import key
from handlers import closing
from handlers.common import Refusal, clip, find_unit
from handlers.context import Request

MAX_REGISTRATION_ID = 2**63 - 1  # BIGINT on PostgreSQL
# Telegram's limit for one message; the lists below stay within it.
MESSAGE_LIMIT = 4096
_DAY = timedelta(days=1)
_REJECT = {"tuchoi", "khong", "reject", "no"}
# "/duyet tuchoi tatca", "/duyet từ chối tất cả", "/duyet reject all".
_REJECT_ALL = {f"{no}{every}" for no in _REJECT for every in ("tatca", "all")}


async def register(req: Request) -> list[Reply]:
    actor = req.actor
    text = req.args.strip()
    if not text:
        return [reply(msg.register_usage())]
    unit = find_unit(req.catalogue, text)
    rules = req.catalogue.registration
    now = req.now()
    async with req.transaction() as uow:
        sender = actor.sender
        registrations = uow.registrations
        waiting = await registrations.pending_for(sender.platform, sender.user_id)
        if waiting is not None and waiting.created_at >= now - rules.expire_after:
            return [reply(msg.registration_waiting(req.catalogue.unit(waiting.unit).name))]
        asked = await registrations.count_since(now - _DAY, sender.platform, sender.user_id)
        if asked >= rules.per_sender_per_day:
            return [reply(msg.registration_sender_limit(asked))]
        if await registrations.count_since(now - _DAY) >= rules.per_day:
            return [reply(msg.REGISTRATION_DAY_LIMIT)]
        registration = await registrations.add(
            actor.sender,
            unit.code,
            Role.OFFICER.value,
            now,
            username=req.message.user_handle,
            request=clip(text, 300),
        )
        await uow.audit.add(
            now, actor=_actor_id(req), action="registration.request", unit=unit.code
        )
        answer = [reply(msg.registration_sent(registration.id, unit.name))]
        return await req.commit_answer(uow, answer)


async def approve(req: Request) -> list[Reply]:
    words = req.args.split()
    if not words:
        # Correction requests of closed weeks wait here too (handlers/closing.py).
        corrections = await closing.pending_list(req)
        return [await _pending_list(req)] + ([corrections] if corrections else [])
    correction = closing.correction_number(words[0])
    if correction is not None:
        if not correction and len(words) > 1:  # `/duyet dc 5`
            correction, words = words[1], words[1:]
        reject = key(" ".join(words[1:])).replace(" ", "") in _REJECT
        return await closing.decide(req, correction, reject)
    if key(" ".join(words)).replace(" ", "") in _REJECT_ALL:
        return await _reject_all(req)
    number = words[0].lstrip("#")
    reject = key(" ".join(words[1:])).replace(" ", "") in _REJECT
    # A number no registration can have (beyond the id column's range) is simply not found.
    # (checked by length first: int() refuses strings of thousands of digits).
    valid = number.isdecimal() and len(number) <= 19 and 0 < int(number) <= MAX_REGISTRATION_ID
    status = "rejected" if reject else "approved"
    now = req.now()
    async with req.transaction() as uow:
        found = await uow.registrations.get(int(number)) if valid else None
        expired = found is not None and found.created_at < now - _expiry(req)
        if found is None or found.status != "pending" or expired:
            raise Refusal(msg.registration_missing(clip(number, 20)))
        decided = await uow.registrations.decide(found.id, status, _actor_id(req), now)
        assert decided is not None
        await uow.audit.add(
            now,
            actor=_actor_id(req),
            action=f"registration.{status}",
            unit=found.unit,
            detail={
                "registration": found.id,
                "user": f"{found.sender.platform}:{found.sender.user_id}",
            },
        )
        unit = _unit_name(req, found.unit)
        decision = msg.registration_rejected if reject else msg.registration_approved
        return await req.commit_answer(uow, [reply(decision(found.sender.name, unit))])


async def _pending_list(req: Request) -> Reply:
    tz = req.catalogue.calendar.tz
    async with req.transaction() as uow:
        waiting = await uow.registrations.pending_details(req.now() - _expiry(req))
    lines = [
        msg.registration_line(
            w.registration.id,
            clip(w.registration.sender.name, 60),
            _unit_name(req, w.registration.unit),
            w.registration.sender.platform,
            w.registration.sender.user_id,
            w.username,
            msg.fmt_moment(w.first_seen.astimezone(tz)),
            clip(w.request, 80),
        )
        for w in waiting
    ]
    return reply(fit(lines, msg.registration_list))


async def _reject_all(req: Request) -> list[Reply]:
    now = req.now()
    async with req.transaction() as uow:
        refused = await uow.registrations.reject_all_pending(_actor_id(req), now)
        if refused:
            await uow.audit.add(
                now,
                actor=_actor_id(req),
                action="registration.rejected_all",
                detail={"registrations": [r.id for r in refused]},
            )
        answer = [reply(msg.registrations_all_rejected(len(refused)))]
        return await req.commit_answer(uow, answer)


def fit(lines: Sequence[str], build: Callable[[Sequence[str], int], str]) -> str:
    """`build(lines, more)` with as many of `lines` as keep it one message; `more` counts
    the lines left out."""
    text = build(lines, 0)
    if len(text) <= MESSAGE_LIMIT:
        return text
    low, high = 0, len(lines)  # the most lines that fit lies in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if len(build(lines[:middle], len(lines) - middle)) <= MESSAGE_LIMIT:
            low = middle
        else:
            high = middle
    return build(lines[:low], len(lines) - low)


def _expiry(req: Request) -> timedelta:
    return req.catalogue.registration.expire_after


def _unit_name(req: Request, code: str) -> str:
    return req.catalogue.unit(code).name if req.catalogue.has_unit(code) else code


def _actor_id(req: Request) -> str:
    return f"{req.actor.sender.platform}:{req.actor.sender.user_id}"
