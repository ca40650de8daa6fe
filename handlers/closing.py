"""Closed weeks: correction requests (made by /baocao, decided through /duyet), a leader's
/pheduyet and an admin's /mokhoa, and the digest's lines about approved corrections.

A period is closed once `core.closing.closes_at` has passed or a leader approved it. A report
for a closed period is stored as a correction request, never as a submission; an admin's
approval stores it as the unit's new version (marked in `correction_requests` with who
approved it), unless the week is approved: then an admin reopens it first. Every step is
written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from core import messages as msg
from core.catalogue import Catalogue, Role, Unit
from core.chat import Recipient, Reply, reply
from core.closing import (
    ACCEPTED,
    APPROVED,
    PENDING,
    REFUSED,
    REOPENED,
    Correction,
    WeekApproval,
    digest_window,
    is_closed,
    rate_changes,
)
from core.numbers import format_int
from core.periods import Period
from core.submission import Submission
from handlers.common import Refusal, clip
from handlers.context import Request
from handlers.notify import Outgoing
from handlers.outbox import NOTICE_WINDOW, enqueue, new_posts
from storage import UnitOfWork

# Corrections listed under /duyet (the rest are counted).
LISTED = 10
# Units named per corrected week in a digest (the rest are counted).
CORRECTED_SHOWN = 10
# A chat message's length (Telegram's limit, the smallest).
MESSAGE_LIMIT = 4096
# The longest reason /mokhoa keeps.
REASON_LIMIT = 300


async def week_closed(uow: UnitOfWork, catalogue: Catalogue, period: Period, now: datetime) -> bool:
    """Whether a report for `period` sent at `now` becomes a correction request."""
    if is_closed(catalogue.calendar, catalogue.schedule, period, now):
        return True
    approval = await uow.weeks.get(period.key)
    return approval is not None and approval.approved


def _actor_id(req: Request) -> str:
    return f"{req.actor.sender.platform}:{req.actor.sender.user_id}"


def _unit_name(catalogue: Catalogue, code: str) -> str:
    return catalogue.unit(code).name if catalogue.has_unit(code) else code


def field_changes(
    catalogue: Catalogue, old: Mapping[str, int], new: Mapping[str, int]
) -> list[tuple[str, str, str]]:
    """(label, old, new) of each field whose figure differs."""
    label = catalogue.labels
    return [(label[code], o, n) for code, o, n in _coded_changes(catalogue, old, new)]


def _coded_changes(
    catalogue: Catalogue, old: Mapping[str, int], new: Mapping[str, int]
) -> list[tuple[str, str, str]]:
    """(field code, old, new) of each field whose figure differs, as the audit log keeps
    a report's changes."""
    out = []
    for f in catalogue.fields:
        before, after = old.get(f.code), new.get(f.code)
        if before != after:
            out.append(
                (
                    f.code,
                    "—" if before is None else format_int(before),
                    "—" if after is None else format_int(after),
                )
            )
    return out


# --- a report for a closed week -------------------------------------------------------------


async def request_correction(
    req: Request,
    uow: UnitOfWork,
    unit: Unit,
    period: Period,
    values: Mapping[str, int],
    warnings: tuple[str, ...],
    existing: Submission | None,
) -> list[Reply]:
    """Store the report as a correction request and commit it with its answer; nothing goes
    to submissions."""
    if existing is not None and dict(existing.values) == dict(values):
        return await req.commit_answer(uow, [reply(msg.unchanged(unit.name, period.label))])
    sender = req.actor.sender
    waiting = await uow.corrections.pending_for(
        unit.code, period.key, sender.platform, sender.user_id
    )
    # Whatever is requested now supersedes the report the sender had waiting for /xacnhan.
    await uow.pending.delete(sender.platform, sender.user_id)
    now = req.now()
    found = await uow.corrections.add(
        unit.code,
        period.key,
        values,
        sender,
        req.message.chat_id,
        req.message.text,
        req.message.sent_at,
        now,
        warnings,
    )
    coded = _coded_changes(req.catalogue, existing.values if existing else {}, values)
    await uow.audit.add(
        now,
        actor=_actor_id(req),
        action="correction.request",
        unit=unit.code,
        period=period.key,
        detail={
            "correction": found.id,
            "changes": [{"field": code, "old": o, "new": n} for code, o, n in coded],
        },
    )
    label = req.catalogue.labels
    changes = [(label[code], o, n) for code, o, n in coded]
    text = [msg.correction_waiting(found.id, unit.name, period.label)]
    if changes and existing is not None:
        text.append(
            "\n".join(
                [msg.changes_header()] + [msg.change_line(label, o, n) for label, o, n in changes]
            )
        )
    if warnings:
        text.append(msg.warnings_block(warnings))
    if waiting:
        text.append(msg.correction_already_waiting(waiting))
    return await req.commit_answer(uow, [reply(*text)])


# --- /duyet dc<n>: an admin decides --------------------------------------------------------


def correction_number(word: str) -> str | None:
    """`dc5`, `DC5`, `#dc5` -> "5"; anything else None (a registration's number)."""
    folded = word.casefold().lstrip("#")
    if folded.startswith("dc"):
        return folded[2:]
    return None


async def pending_list(req: Request) -> Reply | None:
    """The correction requests waiting, old → new per changed figure; None when none."""
    cat = req.catalogue
    async with req.transaction() as uow:
        waiting = await uow.corrections.pending()
        current = {
            (c.unit, c.period): await uow.submissions.current(c.unit, c.period)
            for c in waiting[:LISTED]
        }
        locked = {
            period: await approval_of(uow, Period.parse(period)) is not None
            for period in {c.period for c in waiting[:LISTED]}
        }
    if not waiting:
        return None
    blocks = []
    for c in waiting[:LISTED]:
        period = Period.parse(c.period)
        lines = [
            msg.correction_line(
                c.id,
                clip(c.sender.name, 60),
                _unit_name(cat, c.unit),
                period.label,
                locked[c.period],
            )
        ]
        old = current[(c.unit, c.period)]
        changes = field_changes(cat, old.values if old else {}, c.values)
        lines += [msg.correction_change(label, o, n) for label, o, n in changes]
        if not changes:
            lines.append(msg.CORRECTION_NO_CHANGE)
        blocks.append("\n".join(lines))
    return reply(_fit(blocks, len(waiting)))


def _fit(blocks: Sequence[str], total: int) -> str:
    """As many requests as keep the list one message; the rest are counted."""

    def build(n: int) -> str:
        more = [msg.corrections_more(total - n)] if total > n else []
        return "\n".join([msg.CORRECTIONS_TITLE, *blocks[:n], *more, msg.CORRECTIONS_FOOTER])

    shown = len(blocks)
    while shown > 1 and len(build(shown)) > MESSAGE_LIMIT:
        shown -= 1
    return build(shown)


async def decide(req: Request, number: str, reject: bool) -> list[Reply]:
    valid = number.isascii() and number.isdecimal() and len(number) <= 18
    now = req.now()
    cat = req.catalogue
    async with req.transaction() as uow:
        found = await uow.corrections.get(int(number)) if valid else None
        if found is None or found.status != PENDING:
            raise Refusal(msg.correction_missing(clip(number, 20)))
        period = Period.parse(found.period)
        if reject:
            decided = await uow.corrections.decide(
                found.id, REFUSED, _actor_id(req), req.actor.sender.name, now
            )
            version = None
        else:
            approval = await uow.weeks.get(found.period)
            if approval is not None and approval.approved:
                raise Refusal(msg.correction_locked(period.label, period.week))
            version, old = await _apply(req, uow, found, now)
            decided = await uow.corrections.decide(
                found.id,
                ACCEPTED,
                _actor_id(req),
                req.actor.sender.name,
                now,
                old_values=old,
                version=version,
            )
        if not decided:
            raise Refusal(msg.correction_missing(clip(number, 20)))
        await uow.audit.add(
            now,
            actor=_actor_id(req),
            action="correction.rejected" if reject else "correction.approved",
            unit=found.unit,
            period=found.period,
            detail={"correction": found.id, "version": version},
        )
        unit = _unit_name(cat, found.unit)
        by = req.actor.sender.name
        if reject:
            answer = msg.correction_rejected(found.id, unit, period.label)
            notice = msg.correction_rejected_notice(found.id, unit, period.label, by)
        else:
            assert version is not None
            answer = msg.correction_approved(found.id, unit, period.label, version)
            notice = msg.correction_approved_notice(found.id, unit, period.label, by)
        chats = await _tell_sender(req, uow, found, notice, now)
        answered = await req.commit_answer(uow, [reply(answer)])
    if chats:
        await req.postman().wake(chats, now)
    return answered


async def _apply(
    req: Request, uow: UnitOfWork, found: Correction, now: datetime
) -> tuple[int, dict[str, int]]:
    """Store the request as the unit's new version; (its version, the figures it replaced)."""
    existing = await uow.submissions.current(found.unit, found.period)
    stored = await uow.submissions.add(
        Submission(
            unit=found.unit,
            period=found.period,
            version=0,
            values=dict(found.values),
            # A unit that had reported keeps its standing; a first report after the close
            # is late.
            late=existing.late if existing is not None else True,
            sent_at=found.sent_at,
            sender=found.sender,
            chat=found.chat,
            raw_text=found.raw_text,
            warnings=found.warnings,
        ),
        received_at=now,
        replacing=existing,
    )
    return stored.version, dict(existing.values) if existing is not None else {}


async def _tell_sender(
    req: Request, uow: UnitOfWork, found: Correction, text: str, now: datetime
) -> list[str]:
    """The officer who asked hears the decision in private (where a platform can post):
    enqueued in the decision's transaction; returns the chats to wake after its commit."""
    if not req.notifiers:
        return []
    sender = found.sender
    to = Recipient(sender.user_id, sender.name, ((sender.platform, sender.user_id),), False)
    platforms = [n.platform for n in req.notifiers]
    rows = new_posts(
        f"correction:{found.id}",
        found.period,
        [Outgoing(to, reply(text))],
        platforms,
        now + NOTICE_WINDOW,
    )
    return await enqueue(uow, rows, now)


# --- /pheduyet and /mokhoa ------------------------------------------------------------------


def _period_of(text: str, current: Period) -> Period | None:
    """`47`, `47/2024`, `2024-W47`; a bare week number means this reporting year's."""
    text = text.strip()
    if text.isascii() and text.isdecimal() and len(text) <= 2:
        week, year = int(text), current.year
        if week > current.week:
            year -= 1
        try:
            return Period(year, week)
        except ValueError:
            return None
    try:
        return Period.parse(text)
    except ValueError:
        return None


async def approve_week(req: Request) -> list[Reply]:
    cat = req.catalogue
    now = req.now()
    placement = cat.calendar.place(req.message.sent_at)
    # The week just due: the one still taking late reports, else the one before this one.
    due = placement.period if placement.late else placement.period.previous()
    words = req.args.split()
    if len(words) > 1:
        raise Refusal(msg.approve_week_hint(clip(req.args.strip())))
    period = _period_of(words[0], placement.period) if words else due
    if period is None:
        raise Refusal(msg.approve_week_hint(clip(req.args.strip())))
    if period > due:
        raise Refusal(msg.approve_week_future(period.label))
    async with req.transaction() as uow:
        if not await uow.submissions.has_reports(period.key):
            raise Refusal(msg.approve_week_empty(period.label))
        before = await uow.weeks.get(period.key)
        if before is not None and before.approved:
            at = cat.calendar.local(before.at)
            return [reply(msg.week_already_approved(period.label, before.by_name, at))]
        await uow.weeks.set(
            WeekApproval(period.key, APPROVED, _actor_id(req), req.actor.sender.name, now)
        )
        waiting = [c for c in await uow.corrections.pending() if c.period == period.key]
        await uow.audit.add(
            now, actor=_actor_id(req), action="week.approved", period=period.key, detail={}
        )
        at = cat.calendar.local(now)
        text = msg.week_approved(period.label, req.actor.sender.name, at, len(waiting))
        return await req.commit_answer(uow, [reply(text, *_whole_set_up(req))])


def _whole_set_up(req: Request) -> tuple[str, ...]:
    """In a scoped group, the line that says a week's approval is every unit's."""
    scope = req.catalogue.scoped(req.chat_key).scope_name
    return () if scope is None else (msg.approval_for_everyone(len(req.catalogue.units), scope),)


async def reopen_week(req: Request) -> list[Reply]:
    cat = req.catalogue
    now = req.now()
    current = cat.calendar.current(req.message.sent_at)
    week, _, reason = req.args.strip().partition(" ")
    reason = " ".join(reason.split())
    period = _period_of(week, current) if week else None
    if period is None or not reason:
        raise Refusal(msg.reopen_hint(clip(req.args.strip())))
    reason = clip(reason, REASON_LIMIT)
    async with req.transaction() as uow:
        before = await uow.weeks.get(period.key)
        if before is None or not before.approved:
            raise Refusal(msg.week_not_approved(period.label))
        await uow.weeks.set(
            WeekApproval(period.key, REOPENED, _actor_id(req), req.actor.sender.name, now, reason)
        )
        await uow.audit.add(
            now,
            actor=_actor_id(req),
            action="week.reopened",
            period=period.key,
            detail={
                "reason": reason,
                "approved_by": before.by,
                "approved_at": before.at.isoformat(),
            },
        )
        answer = [reply(msg.week_reopened(period.label, reason), *_whole_set_up(req))]
        return await req.commit_answer(uow, answer)


async def approval_of(uow: UnitOfWork, period: Period) -> WeekApproval | None:
    """The period's approval if it stands (not reopened)."""
    found = await uow.weeks.get(period.key)
    return found if found is not None and found.approved else None


def approve_button(req: Request, period: Period, closed: bool) -> tuple[tuple[str, str], ...]:
    """The leader's button to approve a closed week (a press is checked like typing)."""
    if req.actor.role is not Role.LEADER or not closed:
        return ()
    return ((f"{msg.APPROVE_WEEK_BUTTON} {period.week}", f"/pheduyet {period.key}"),)


# --- the digest ---------------------------------------------------------------------------


async def read_announced(uow: UnitOfWork, catalogue: Catalogue, period: Period) -> list[Correction]:
    """The approved corrections the digest of `period` announces (core.closing.digest_window):
    requests an admin approved and imports into closed weeks; a scoped chat's, its units'."""
    start, end = digest_window(catalogue.calendar, catalogue.schedule, period)
    found = await uow.corrections.approved_between(start, end)
    codes = catalogue.scope_codes
    return found if codes is None else [c for c in found if c.unit in codes]


def announced_lines(catalogue: Catalogue, corrections: Sequence[Correction]) -> list[str]:
    """One line per corrected week: each unit's indicators whose rate changed, for the first
    `CORRECTED_SHOWN` units; the others are counted (an import of a national sheet into a
    closed week corrects thousands)."""
    by_week: dict[str, dict[str, list[str]]] = {}
    for c in corrections:
        week = Period.parse(c.period)
        label = f"tuần {week.week}/{week.year}"
        units = by_week.setdefault(label, {})
        if c.unit not in units and len(units) >= CORRECTED_SHOWN:
            units.setdefault(c.unit, [])  # counted, not described
            continue
        unit = catalogue.unit(c.unit).short_name if catalogue.has_unit(c.unit) else c.unit
        old = catalogue.with_quotas(week, {c.unit: c.old_values or {}})[c.unit]
        new = catalogue.with_quotas(week, {c.unit: c.values})[c.unit]
        changes = rate_changes(catalogue, old, new)
        items = units.setdefault(c.unit, [])
        if changes:
            items += [msg.correction_digest_item(unit, r.indicator, r.old, r.new) for r in changes]
        elif not items:
            items.append(msg.correction_digest_figures(unit))
    lines = []
    for label, units in by_week.items():
        items = [item for said in units.values() for item in said]
        more = len(units) - CORRECTED_SHOWN
        lines.append(
            msg.corrections_in_digest(label, items + ([msg.and_more(more)] if more > 0 else []))
        )
    return lines
