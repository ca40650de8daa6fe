"""/baocao, /xacnhan, /huy and /mau: receiving a unit's weekly report."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import EllipsisType

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Role, Unit
from core.chat import Reply, Text, reply
from core.numbers import format_int
from core.periods import Period, Placement
from core.report import REPORT_HEAD, ParsedReport, parse_report
from core.submission import PendingReport, Submission, Values
from core.validation import review
from handlers.closing import request_correction, week_closed
from handlers.common import Refusal, find_unit, indicator_lines, template_text
from handlers.context import Request
from storage import UnitOfWork

# Weeks of history a report is checked against (for the "unusual jump" warning).
HISTORY_WEEKS = 5


async def report(req: Request) -> list[Reply]:
    actor = req.actor
    if req.message.forwarded:
        return [reply(msg.report_refused([msg.FORWARDED_REPORT]))]
    parsed = parse_report(req.args, req.catalogue)
    if not (parsed.values or parsed.problems or parsed.unit_text or parsed.period_text) and not (
        parsed.bare_lines or parsed.command_lines
    ):
        return await template(req)
    try:
        reading = _unit_of(req, parsed)
    except (NotYourUnit, SeveralReports) as refusal:
        return [reply(msg.report_refused([refusal.text]))]
    except Refusal as refusal:
        return _refuse(req, [refusal.text], None, parsed.values, parsed.ignored)
    unit, ignored = reading.unit, reading.ignored
    problems = list(parsed.problems)
    problems += [
        f"Không hiểu dòng “{line[:60]}”; mỗi dòng ghi “tên mục: số liệu”."
        for line in reading.unread
    ]
    try:
        placement = _placement(req, parsed)
    except Refusal as refusal:
        problems.append(refusal.text)
        placement = None
    if problems or placement is None:
        return _refuse(req, problems, unit, parsed.values, ignored)
    period = placement.period
    holds = _other_week(req, parsed, placement) + _header_week(parsed, placement)
    async with req.transaction() as uow:
        # One query for the weeks before and the period itself: a report costs few statements.
        recent = await uow.submissions.recent(unit.code, period.key, HISTORY_WEEKS)
        existing = recent[0] if recent and recent[0].period == period.key else None
        history = recent[1:] if existing is not None else recent[:HISTORY_WEEKS]
        values, carried = _carry_forward(req.catalogue, period, parsed.values, existing, history)
        letters = req.catalogue.with_quotas(period, {unit.code: values})[unit.code]
        verdict = review(values, req.catalogue, [h.values for h in history], letters)
        if not verdict.accepted:
            return _refuse(req, list(verdict.errors), unit, parsed.values, ignored)
        warnings = reading.notes + carried + verdict.warnings
        if await week_closed(uow, req.catalogue, period, req.message.sent_at):
            # After the close, the week changes only through an admin: the request keeps
            # what would have asked for /xacnhan, for the admin to read.
            flagged = warnings + verdict.confirmations
            return await request_correction(req, uow, unit, period, values, flagged, existing)
        confirmations = holds + verdict.confirmations
        if confirmations:
            pending = PendingReport(
                sender=actor.sender,
                chat=req.message.chat_id,
                unit=unit.code,
                period=period.key,
                late=placement.late,
                values=dict(values),
                raw_text=req.message.text,
                sent_at=req.message.sent_at,
                warnings=confirmations + warnings,
            )
            await uow.pending.put(pending, req.now())
            answer = [reply(msg.confirm_needed(confirmations), *_ignored_note(ignored))]
            return await req.commit_answer(uow, answer)
        stored = await _store(
            req, uow, unit, placement, values, req.message.text, warnings, existing
        )
        late = stored.submission.late if stored.submission is not None else placement.late
        answer = _stored_reply(req, unit, period, late, values, warnings, stored, ignored)
        return await req.commit_answer(uow, answer)  # only now is the report acknowledged


async def confirm(req: Request) -> list[Reply]:
    sender = req.actor.sender
    async with req.transaction() as uow:
        pending = await uow.pending.get(sender.platform, sender.user_id)
        if pending is None:
            return [reply(msg.NOTHING_TO_CONFIRM)]
        unit = req.catalogue.unit(pending.unit)
        placement = Placement(Period.parse(pending.period), pending.late)
        if await week_closed(uow, req.catalogue, placement.period, req.message.sent_at):
            # Held before the week closed, confirmed after: an admin decides now.
            existing = await uow.submissions.current(unit.code, pending.period)
            return await request_correction(
                req, uow, unit, placement.period, pending.values, pending.warnings, existing
            )
        stored = await _store(
            req, uow, unit, placement, pending.values, pending.raw_text, pending.warnings
        )
        late = stored.submission.late if stored.submission is not None else placement.late
        answer = _stored_reply(
            req, unit, placement.period, late, pending.values, pending.warnings, stored
        )
        return await req.commit_answer(uow, answer)


async def cancel(req: Request) -> list[Reply]:
    sender = req.actor.sender
    async with req.transaction() as uow:
        pending = await uow.pending.get(sender.platform, sender.user_id)
        if pending is None:
            return [reply(msg.NOTHING_TO_CONFIRM)]
        await uow.pending.delete(sender.platform, sender.user_id)
        return await req.commit_answer(uow, [reply(msg.PENDING_CANCELLED)])


async def template(req: Request) -> list[Reply]:
    actor = req.actor
    unit = actor.unit
    if req.args.strip():
        unit = find_unit(req.catalogue, req.args.strip())
        if actor.role is Role.OFFICER and actor.unit is not None and unit != actor.unit:
            raise Refusal(msg.not_your_unit(actor.unit.name, unit.name))
    period = req.catalogue.calendar.current(req.message.sent_at)
    values: Values = {}
    if unit is not None:
        async with req.transaction() as uow:
            current = await uow.submissions.current(unit.code, period.key)
            history = await uow.submissions.history(unit.code, period.key, 1)
        latest = current or (history[0] if history else None)
        values = latest.values if latest else {}
    title = msg.template_title(unit.name if unit else "…", period.label)
    return [
        reply(title, msg.template_hint(bool(values))),
        reply(template_text(req.catalogue, unit, values)),
    ]


@dataclass(frozen=True)
class UnitReading:
    """The unit a report is for, and what became of the lines that were no field."""

    unit: Unit
    unread: tuple[str, ...]  # lines with a figure the bot could not read: the report waits
    ignored: tuple[str, ...]  # greetings and notes: listed in the reply
    notes: tuple[str, ...] = ()  # what the bot understood for the officer (a near-miss name)


def _unit_of(req: Request, parsed: ParsedReport) -> UnitReading:
    """The unit the report is for, and the bare lines that were not its name."""
    actor = req.actor
    leftovers = list(parsed.bare_lines)
    ignored = list(parsed.ignored)
    notes: list[str] = []
    text = parsed.unit_text
    named = [_resolve(req, t, notes) for t in parsed.unit_texts]
    for line in list(leftovers):
        match = req.catalogue.match_unit(line)
        if match.unit is None and not match.candidates:
            # `Dạ xã Bình Châu báo cáo:` names the unit inside a greeting: it must agree.
            mentioned = _mentioned_unit(req, line)
            if mentioned is not None:
                named.append(mentioned)
                text = mentioned.name if text is None else text
                leftovers.remove(line)
                ignored.append(line)
            continue
        if text is None:
            text = line
        if match.unit is not None:
            named.append(match.unit)
        if match.unit is not None or text == line:
            leftovers.remove(line)
    units = list(dict.fromkeys(named))
    if len(units) > 1:
        # Pasted reports of several units: no template either, as it could only pair one
        # unit's name with figures that may be another's.
        raise SeveralReports(msg.two_units([u.name for u in units]))
    for line in parsed.command_lines:
        if _is_report_command(line):
            raise SeveralReports(msg.TWO_REPORTS)
        leftovers.append(line)
    # A line without a figure is a greeting or a note; one with a figure may be a field
    # written so that it could not be read, and a figure is never dropped silently.
    unread = tuple(line for line in leftovers if any(ch.isdigit() for ch in line))
    ignored += [line for line in leftovers if line not in unread]
    if text is None:
        if actor.unit is not None and actor.role is Role.OFFICER:
            return UnitReading(actor.unit, unread, tuple(ignored), tuple(notes))
        raise Refusal(msg.unit_needed())
    unit = _resolve(req, text, notes)
    if actor.role is Role.OFFICER and actor.unit is not None and unit != actor.unit:
        raise NotYourUnit(msg.not_your_unit(actor.unit.name, unit.name))
    return UnitReading(unit, unread, tuple(ignored), tuple(dict.fromkeys(notes)))


def _resolve(req: Request, text: str, notes: list[str]) -> Unit:
    """The unit a typed name means; an officer's one-candidate near miss of their own unit's
    name (`Xã Bình Thuân` from Bình Thuận) is that unit, said in a note. Names of two units
    that differ in a diacritic have two candidates and are still never guessed."""
    own = req.actor.unit if req.actor.role is Role.OFFICER else None
    match = req.catalogue.match_unit(text)
    if match.unit is None and own is not None and match.candidates == (own,):
        notes.append(msg.unit_near_miss(text, own.name))
        return own
    return find_unit(req.catalogue, text)


_UNIT_WORD = re.compile(r"(?:^|\s)((?:xã|phường|thị trấn|thị xã)\s+\S.*)$", re.IGNORECASE)


def _mentioned_unit(req: Request, line: str) -> Unit | None:
    """The unit a sentence names after its type: `Dạ xã Bình Châu báo cáo` -> Bình Châu."""
    m = _UNIT_WORD.search(line.rstrip(":.!"))
    if m is None:
        return None
    words = m[1].split()
    for n in range(min(len(words), 6), 1, -1):
        found = req.catalogue.match_unit(" ".join(words[:n])).unit
        if found is not None:
            return found
    return None


class NotYourUnit(Refusal):
    """Refused without a template: the figures were another unit's."""


class SeveralReports(Refusal):
    """Refused without a template: the message holds more than one report."""


def _is_report_command(line: str) -> bool:
    # The registry imports this module, so it is looked up when a message is handled.
    from handlers.commands import lookup

    if REPORT_HEAD.match(line):
        return True
    word = line[1:].split(maxsplit=1)[0] if line[1:].strip() else ""
    entry = lookup(word.split("@", 1)[0].casefold())
    return entry is not None and entry.run is report


def _placement(req: Request, parsed: ParsedReport) -> Placement:
    calendar = req.catalogue.calendar
    placement = calendar.place(req.message.sent_at)
    if parsed.period_text is None:
        return placement
    try:
        named = Period.parse(parsed.period_text)
    except ValueError as exc:
        raise Refusal(msg.period_unknown(parsed.period_text)) from exc
    if named > placement.period:
        raise Refusal(msg.period_in_future(named.label, placement.period.label))
    return calendar.place_in(named, req.message.sent_at)


def _carry_forward(
    catalogue: Catalogue,
    period: Period,
    values: Mapping[str, int],
    existing: Submission | None,
    history: Sequence[Submission],
) -> tuple[dict[str, int], tuple[str, ...]]:
    """The report with each optional group it leaves out but the unit gave before (this week's
    earlier version first, else the latest earlier week) carried forward, and the note that says
    so: an omission must never make a unit drop out of an indicator and lower the total."""
    sources = [s for s in (existing, history[0] if history else None) if s is not None]
    out = dict(values)
    carried: list[Indicator] = []
    used: list[Submission] = []
    for ind in catalogue.indicators:
        fields = ind.fields
        if any(catalogue.field(c).required for c in fields) or any(c in values for c in fields):
            continue
        source = next((s for s in sources if all(c in s.values for c in fields)), None)
        if source is None:
            continue
        out.update({c: source.values[c] for c in fields})
        carried.append(ind)
        used.append(source)
    if not carried:
        return out, ()
    # Name the widest groups only: "Chi trả KDTM", not also its "BTXH" and "NCC" parts.
    names = [
        ind.short
        for ind in carried
        if not any(set(ind.fields) < set(other.fields) for other in carried)
    ]
    first = used[0]
    earlier = Period.parse(first.period)
    if first is existing:
        said = msg.CARRIED_FROM_EARLIER_VERSION
    elif earlier == period.previous():
        said = msg.CARRIED_FROM_LAST_WEEK
    else:
        said = f"tuần {earlier.week}" if earlier.year == period.year else earlier.label
    return out, (msg.carried_forward(names, said),)


def _other_week(req: Request, parsed: ParsedReport, placement: Placement) -> tuple[str, ...]:
    """A report for another week than the one being reported (a `Tuần:` line left in a
    copied message) is held: stored silently it would overwrite that week's figures."""
    # An edit counts for the week of the message it changes, and is held when that week is no
    # longer the one being reported.
    now = req.message.edited_at or req.message.sent_at
    current = req.catalogue.calendar.place(now).period
    named = placement.period
    if named == current:
        return ()
    same_year = named.year == current.year
    if parsed.period_text is not None:
        source = msg.week_line_source(parsed.period_text)
    else:
        source = msg.EDITED_SOURCE
    return (
        msg.other_week(
            source,
            f"tuần {named.week}" if same_year else named.label,
            f"tuần {current.week}" if same_year else current.label,
        ),
    )


def _ignored_note(ignored: Sequence[str]) -> tuple[str, ...]:
    return (msg.ignored_lines(ignored),) if ignored else ()


def _header_week(parsed: ParsedReport, placement: Placement) -> tuple[str, ...]:
    """A heading naming another week (`Báo cáo tuần 46` left in a copied message) asks before
    the figures are stored for the week being reported."""
    if parsed.header_week is None or parsed.period_text is not None:
        return ()
    line, week, year = parsed.header_week
    period = placement.period
    if week == period.week and year in (None, period.year):
        return ()
    return (msg.header_week_differs(line, period.label),)


def _refuse(
    req: Request,
    problems: list[str],
    unit: Unit | None,
    values: Mapping[str, int],
    ignored: Sequence[str] = (),
) -> list[Reply]:
    return [
        reply(msg.report_refused(problems), *_ignored_note(ignored), msg.TEMPLATE_INTRO),
        reply(template_text(req.catalogue, unit or req.actor.unit, values, only_given=True)),
    ]


@dataclass(frozen=True)
class Stored:
    """What `_store` did: the new version and its changes, or None when unchanged."""

    submission: Submission | None
    changes: list[dict[str, str]]


async def _store(
    req: Request,
    uow: UnitOfWork,
    unit: Unit,
    placement: Placement,
    values: Mapping[str, int],
    raw_text: str,
    warnings: tuple[str, ...],
    existing: Submission | EllipsisType | None = ...,
) -> Stored:
    """Store the report (the caller commits it with its answer, `Request.commit_answer`);
    `existing` is the current report of the unit and period when the caller has read it in
    this unit of work (None: there is none)."""
    period = placement.period
    # Whatever is stored now supersedes the report the sender had waiting for /xacnhan.
    await uow.pending.delete(req.actor.sender.platform, req.actor.sender.user_id)
    if isinstance(existing, EllipsisType):
        existing = await uow.submissions.current(unit.code, period.key)
    if existing is not None and dict(existing.values) == dict(values):
        return Stored(None, [])
    # A correction after the due time of a report first sent on time leaves the unit on
    # time: the figures were in; the correction's own time stays in the version history.
    late = placement.late and (existing is None or existing.late)
    stored = await uow.submissions.add(
        Submission(
            unit=unit.code,
            period=period.key,
            version=0,
            values=dict(values),
            late=late,
            sent_at=req.message.sent_at,
            sender=req.actor.sender,
            chat=req.message.chat_id,
            raw_text=raw_text,
            warnings=warnings,
        ),
        received_at=req.now(),
        replacing=existing,
    )
    changes = _changes(req, existing.values if existing else {}, values) if existing else []
    await uow.audit.add(
        req.now(),
        actor=f"{req.actor.sender.platform}:{req.actor.sender.user_id}",
        action="report.replace" if existing else "report.create",
        unit=unit.code,
        period=period.key,
        detail={"version": stored.version, "changes": changes},
    )
    return Stored(stored, changes)


def _stored_reply(
    req: Request,
    unit: Unit,
    period: Period,
    late: bool,
    values: Mapping[str, int],
    warnings: tuple[str, ...],
    stored: Stored,
    ignored: Sequence[str] = (),
) -> list[Reply]:
    if stored.submission is None:
        return [reply(msg.unchanged(unit.name, period.label))]
    # An edited /baocao was answered before; this answer says it is the edit that counts now.
    accepted = msg.accepted_edit if req.message.edited_at is not None else msg.accepted
    text = [accepted(unit.name, period.label, late, stored.submission.version)]
    if stored.changes:
        label = req.catalogue.labels
        text.append(
            "\n".join(
                [msg.changes_header()]
                + [msg.change_line(label[c["field"]], c["old"], c["new"]) for c in stored.changes]
            )
        )
    filled = req.catalogue.with_quotas(period, {unit.code: values})[unit.code]
    lines = indicator_lines(req.catalogue, filled)
    if lines:
        text.append("\n".join([msg.rates_header(), *lines]))
    if warnings:
        text.append(msg.warnings_block(warnings))
    text += _ignored_note(ignored)
    return [Reply(tuple(Text.of(t) for t in text))]


def _changes(req: Request, old: Mapping[str, int], new: Mapping[str, int]) -> list[dict[str, str]]:
    out = []
    for f in req.catalogue.fields:
        if old.get(f.code) != new.get(f.code):
            before = old.get(f.code)
            after = new.get(f.code)
            out.append(
                {
                    "field": f.code,
                    "old": "—" if before is None else format_int(before),
                    "new": "—" if after is None else format_int(after),
                }
            )
    return out
