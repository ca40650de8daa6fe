"""/trangthai, /xephang, /tiendo and /lichsu: what leaders (and officers, for their unit) see.

Each command reads in one short transaction (`handlers.queries`) and formats after it is
closed (`handlers.present`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from datetime import date

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Unit
from core.chat import Reply, Table, Text, reply
from core.closing import is_closed
from core.pace import WeeklyValues, carried_units, carry_forward
from core.periods import Period
from core.text import key, label_key
from handlers import queries
from handlers.closing import approval_of, approve_button
from handlers.common import Refusal, clip, find_unit
from handlers.context import Request
from handlers.present import (
    at_risk_lines,
    history_blocks,
    own_ranking_blocks,
    pace_reply,
    ranking_blocks,
    rankings_overview,
    totals_table,
)
from handlers.reachability import unreachable_blocks, unreachable_for


async def status(req: Request) -> list[Reply]:
    cat = req.catalogue
    period, rest = _week_arg(req, "trangthai")
    if rest:
        raise Refusal(msg.week_hint("trangthai", clip(req.args.strip())))
    period = period or cat.calendar.current(req.message.sent_at)
    async with req.transaction() as uow:
        subs = await queries.reports_of(uow, cat, period)
        unreachable = await unreachable_for(req, uow)
        approval = await approval_of(uow, period) if subs else None
    units = cat.expected_units(period)
    on_time = [u for u in units if u.code in subs and not subs[u.code].late]
    late = [u for u in units if u.code in subs and subs[u.code].late]
    missing = [u for u in units if u.code not in subs]
    blocks: list[Text | Table] = [
        Text.of(msg.status_title(period.label, cat.calendar.due_at(period))),
        Text.of(msg.status_counts(len(on_time), len(late), len(missing), len(units))),
    ]
    if cat.scope_name is not None:  # a scoped group: say whose figures these are
        blocks.insert(1, Text.of(msg.scope_line(cat.scope_name, len(cat.units))))
    if req.actor.is_staff:
        for title, group in (
            (msg.STATUS_ON_TIME, on_time),
            (msg.STATUS_LATE, late),
            (msg.STATUS_MISSING, missing),
        ):
            blocks.append(Text.of(msg.status_list(title, [u.short_name for u in group])))
    elif req.actor.unit is not None:
        own = req.actor.unit
        state = msg.OWN_MISSING
        if own.code in subs:
            state = msg.OWN_LATE if subs[own.code].late else msg.OWN_REPORTED
        blocks.append(Text.of(msg.own_status(own.name, state)))
    totals = totals_table(cat, [s.values for s in subs.values()], _in_group(req))
    if totals.rows:
        blocks += [Text.of(msg.totals_header(cat.scope)), totals]
    blocks += unreachable_blocks(unreachable)
    buttons: tuple[tuple[str, str], ...] = (
        ((msg.NUDGE_BUTTON, f"/nhacnho {period.key}"),)
        if missing and req.actor.is_staff and approval is None
        else ()
    )
    if approval is not None:
        blocks.append(
            Text.of(msg.approval_stamp(approval.by_name, cat.calendar.local(approval.at)))
        )
    elif subs:
        closed = is_closed(cat.calendar, cat.schedule, period, req.message.sent_at)
        buttons += approve_button(req, period, closed)
    return [Reply(tuple(blocks), buttons=buttons)]


async def ranking(req: Request) -> list[Reply]:
    cat = req.catalogue
    named, words = _week_arg(req, "xephang")
    indicators: Sequence[Indicator] = cat.ranked_indicators or cat.indicators
    if words:
        indicators = _indicators_named(cat, words)
        if not indicators:
            raise Refusal(
                msg.indicator_unknown(clip(req.args.strip()), [i.short for i in cat.indicators])
            )
    async with req.transaction() as uow:
        period = named or await queries.reported_period(uow, cat.calendar, req.message.sent_at)
        current, previous = await queries.week_and_previous(uow, cat, period)
    if not current:
        return [reply(msg.no_reports_yet(period.label))]
    expected = queries.expected_codes(cat, period)
    if req.actor.is_staff and _in_group(req) and len(indicators) > 1:
        results = [queries.rank_expected(cat, i, current, previous, expected) for i in indicators]
        return [Reply(tuple(rankings_overview(results, period)))]
    replies = []
    own: list[Text | Table] = []
    for ind in indicators:
        result = queries.rank_expected(cat, ind, current, previous, expected)
        if req.actor.is_staff:
            replies.append(Reply(tuple(ranking_blocks(result, period, _in_group(req)))))
        else:
            own += own_ranking_blocks(result, period, req.actor.unit)
    # An officer's places in every indicator are a few lines: one message, not one each.
    return replies if req.actor.is_staff else [Reply(tuple(own))]


async def pace(req: Request) -> list[Reply]:
    cat = req.catalogue
    today = cat.calendar.local(req.message.sent_at).date()
    unit = _unit_arg(req)
    series = await _series(req)
    replies = []
    if unit is not None:
        points = queries.unit_points(series, unit)
        replies.append(pace_reply(cat, unit.name, today, points, unit.code))
    if unit is None or not req.actor.is_staff:
        codes = [u.code for u in cat.units]
        group = carry_forward(codes, series)
        blocks = pace_reply(cat, cat.scope, today, group).blocks
        carried = carried_units(codes, series)
        if carried:  # why this total can differ from /xephang's and /trangthai's
            blocks += (Text.of(msg.carried_note(carried, cat.scope)),)
        if req.actor.is_staff:
            at_risk = queries.units_at_risk(cat, series, today)
            blocks += tuple(Text.of(t) for t in at_risk_lines(at_risk))
        replies.append(Reply(blocks))
    return replies


async def history(req: Request) -> list[Reply]:
    cat = req.catalogue
    cal = cat.calendar
    unit = _unit_arg(req)
    async with req.transaction() as uow:
        recent = await queries.recent(uow, req.catalogue, cal.current(req.message.sent_at))
        changed = await uow.corrections.adjusted([p.key for p, _ in recent.weeks])
    series = queries.dated(cal, recent.weeks)
    # Weeks whose figures changed after they closed: a correction approved, an import.
    mine = {u.code for u in cat.units} if unit is None else {unit.code}
    adjusted = {cal.due_at(Period.parse(p)).date() for u, p in changed if u in mine}
    late: set[date] = set()
    carried = 0
    if unit is None:
        codes = [u.code for u in cat.units]
        rows = carry_forward(codes, series)
        carried = carried_units(codes, series)
        scope = cat.scope
    else:
        rows = queries.unit_points(series, unit)
        scope = unit.name
        late = {
            cal.due_at(Period.parse(r.period)).date()
            for r in recent.rows
            if r.unit == unit.code and r.late
        }
    rows = [(on, values) for on, values in rows if values]
    if not rows:
        return [reply(msg.no_history(scope))]
    blocks = (Text.of(msg.history_title(scope)), *history_blocks(cat, rows, late, adjusted))
    if carried:
        blocks += (Text.of(msg.carried_note(carried, cat.scope)),)
    return [Reply(blocks)]


def _in_group(req: Request) -> bool:
    """Group replies are read on phones: narrow tables (`handlers.present.NARROW`)."""
    return req.message.chat_type == "group"


# How leaders name a week: `46`, `46/2024`, `2024-W46`, `tuần 46`, `tuần trước`, `tuần này`
# (matched on the text without diacritics, so `tuan truoc` too).
_RELATIVE_WEEK = re.compile(r"(?:^|\s)tuan\s*(?P<which>truoc|nay)(?=\s|$)")
_ISO_WEEK = re.compile(r"(?:^|\s)(?P<year>[0-9]{4})-?w(?P<week>[0-9]{1,2})(?=\s|$)")
_WEEK = re.compile(
    r"(?:^|\s)(?:tuan\s*(?:so\s*)?|w)?(?P<week>[0-9]{1,2})(?:\s*[/.-]\s*(?P<year>[0-9]{4}))?(?=\s|$)"
)


def _week_arg(req: Request, command: str) -> tuple[Period | None, str]:
    """The week named in the arguments, if any, and the words left (an indicator's name).
    A week that does not exist is a Refusal with a hint, never the current week."""
    text = key(req.args)
    current = req.catalogue.calendar.current(req.message.sent_at)
    if m := _RELATIVE_WEEK.search(text):
        period = current.previous() if m["which"] == "truoc" else current
    elif m := _ISO_WEEK.search(text) or _WEEK.search(text):
        week, year = int(m["week"]), m["year"]
        try:
            if year is not None:
                period = Period(int(year), week)
            else:
                # The nearest week of that number: `52` in January is last year's.
                options = []
                for y in (current.year - 1, current.year):
                    with contextlib.suppress(ValueError):
                        options.append(Period(y, week))
                period = min(options, key=lambda p: abs((p.monday - current.monday).days))
        except ValueError:
            raise Refusal(msg.week_hint(command, clip(req.args.strip()))) from None
    else:
        return None, text.strip()
    rest = (text[: m.start()] + " " + text[m.end() :]).strip()
    return period, rest


def _indicators_named(cat: Catalogue, words: str) -> list[Indicator]:
    """The indicator a name or part of one means; a part shared by several (`chi tra`)
    means all of them, each ranked in turn."""
    found = cat.find_indicator(words)
    if found is not None:
        return [found]
    wanted = label_key(words)
    return [
        i
        for i in cat.indicators
        if wanted and (wanted in label_key(i.name) or wanted in label_key(i.short))
    ]


def _unit_arg(req: Request) -> Unit | None:
    """The unit named in the arguments; officers may only look at their own."""
    actor = req.actor
    text = req.args.strip()
    if not text:
        return None if actor.is_staff else actor.unit
    unit = find_unit(req.catalogue, text)
    if not actor.is_staff and unit != actor.unit:
        raise Refusal(msg.LEADERS_ONLY)
    return unit


async def _series(req: Request) -> WeeklyValues:
    """Reports of the last weeks up to the current period, by due date, ascending."""
    cal = req.catalogue.calendar
    async with req.transaction() as uow:
        recent = await queries.recent(uow, req.catalogue, cal.current(req.message.sent_at))
    return queries.dated(cal, recent.weeks)
