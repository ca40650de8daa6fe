"""What scheduled jobs post (early reminder, last call, digest, countdown) and /nhacnho.

`job_posts` composes a job's posts from one short read; the outbox (`handlers.outbox`)
enqueues them in the job's transaction and sends each exactly once. The scheduler package
decides *when*; this module decides *what*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from core import messages as msg
from core.catalogue import Catalogue, Chat, Indicator, Unit
from core.chat import Mention, Photo, Recipient, Reply, Span, Text, reply
from core.numbers import format_int, format_pct, rate_pct
from core.pace import carry_forward, compute_pace, daily_quota, points
from core.periods import Period
from core.ranking import ratio
from core.schedule import Job, JobKind
from handlers import queries
from handlers.closing import announced_lines, approval_of, read_announced
from handlers.common import Refusal, chat_recipient, mentions, officers, target_text
from handlers.context import Request
from handlers.digest import Digest, compute_digest, digest_replies, read_digest
from handlers.files import ranking_photos
from handlers.notify import Delivered, Outgoing
from handlers.outbox import FIRST_RETRY, enqueue, new_posts, settle
from handlers.present import day_word
from handlers.summary import area_of, area_rankings, summary_replies
from storage import Database, UnitOfWork

# Units listed in a countdown as furthest behind.
BEHIND_LIMIT = 5


async def job_posts(
    catalogue: Catalogue, db: Database, job: Job, now: datetime, files_dir: Path | None = None
) -> list[Outgoing]:
    """The posts a job makes, read in one short transaction and composed (the digest's
    charts drawn, with `files_dir`) after it is closed. A chat with a scope gets its
    units' posts only; a summary chat gets counts per area instead of lists of units."""
    chat = catalogue.chat_by_key(job.chat)
    catalogue = catalogue.scoped(job.chat)
    group = chat_recipient(catalogue, job.chat)
    period = job.period
    summary = chat is not None and chat.summary
    if job.kind is JobKind.EARLY:
        async with db.unit_of_work() as uow:
            missing = await queries.missing_units(catalogue, uow, period)
        return [Outgoing(group, _early(catalogue, period, missing))]
    if job.kind is JobKind.LAST_CALL:
        due = catalogue.calendar.due_at(period)
        minutes = max(1, round((due - now).total_seconds() / 60))
        async with db.unit_of_work() as uow:
            missing = await queries.missing_units(catalogue, uow, period)
            people = await _people(catalogue, uow, missing)
        if summary and chat is not None:
            if not missing:
                return []
            header = msg.summary_last_call(period.label, due, minutes, len(missing))
            return [Outgoing(group, _missing_by_area(header, missing, chat.summary_by))]
        header = msg.last_call_header(period.label, due, minutes, len(missing))
        return _chase(catalogue, [group], period, missing, people, header)
    if job.kind is JobKind.DIGEST:
        async with db.unit_of_work() as uow:
            recent = await read_digest(uow, catalogue, period)
            corrected = await read_announced(uow, catalogue, period)
        digest = compute_digest(catalogue, recent, period, now)
        digest = replace(digest, corrected=tuple(announced_lines(catalogue, corrected)))
        if summary and chat is not None:
            replies = summary_replies(catalogue, chat, digest)
        else:
            replies = digest_replies(catalogue, digest)
        if files_dir is not None:
            photos = await _digest_photos(catalogue, chat, digest, files_dir)
            if photos:
                replies.append(Reply(tuple(photos)))
        return [Outgoing(group, r, n) for n, r in enumerate(replies)]
    code, days = job.countdown
    async with db.unit_of_work() as uow:
        recent = await queries.recent(uow, catalogue, catalogue.calendar.current(now))
    countdown = _countdown(catalogue, recent, code, days, now)
    return [] if countdown is None else [Outgoing(group, countdown)]


async def _digest_photos(
    catalogue: Catalogue, chat: Chat | None, digest: Digest, files_dir: Path
) -> list[Photo]:
    """The full ranking charts; a summary chat's are one bar per area instead."""
    period = digest.period
    if chat is None or (chat.scope is None and not chat.summary):
        return await ranking_photos(catalogue, digest.rankings, period, files_dir)
    if not chat.summary:
        return await ranking_photos(catalogue, digest.rankings, period, files_dir, chat.key)
    level = chat.summary_by
    rankings = area_rankings(catalogue, digest, level)

    def caption(ind: Indicator) -> str:
        return msg.area_chart_caption(ind.short, period.label, level)

    return await ranking_photos(catalogue, rankings, period, files_dir, chat.key, caption)


def _missing_by_area(header: str, missing: Sequence[Unit], level: str) -> Reply:
    """A summary chat's last call: how many units have not reported, per area."""
    counts: dict[str, int] = {}
    for unit in missing:
        name = area_of(unit, level)
        counts[name] = counts.get(name, 0) + 1
    lines = [header, *(msg.area_count_line(name, count) for name, count in counts.items())]
    return reply("\n".join(lines))


def _early(catalogue: Catalogue, period: Period, missing: Sequence[Unit]) -> Reply:
    cal = catalogue.calendar
    total = len(catalogue.expected_units(period))
    due = cal.due_at(period)
    lines = [msg.early_reminder(period.label, due, total - len(missing), total)]
    if cal.due_moved(period):
        lines.append(msg.due_moved(cal.regular_due_at(period), due))
    return reply(*lines)


async def _people(
    catalogue: Catalogue, uow: UnitOfWork, missing: Sequence[Unit]
) -> dict[str, list[Recipient]]:
    return await officers(catalogue, uow, [u.code for u in missing]) if missing else {}


def _chase(
    catalogue: Catalogue,
    chats: Sequence[Recipient],
    period: Period,
    missing: Sequence[Unit],
    people: Mapping[str, list[Recipient]],
    header: str,
) -> list[Outgoing]:
    """The missing units named in the group with their officers mentioned, and a private
    message to each of those officers."""
    if not missing:
        return []
    group_post = _named_post(header, missing, people)
    out = [Outgoing(chat, group_post) for chat in chats]
    return out + _private_posts(catalogue, period, missing, people)


def _named_post(
    header: str, missing: Sequence[Unit], people: Mapping[str, list[Recipient]]
) -> Reply:
    spans: list[Span] = [header]
    for unit in missing:
        spans.append(f"\n• {unit.short_name}")
        named: list[Mention] = mentions(people[unit.code])
        for n, mention in enumerate(named):
            spans += [", ", mention] if n else [": ", mention]
    return Reply((Text(tuple(spans)),))


def _private_posts(
    catalogue: Catalogue,
    period: Period,
    missing: Sequence[Unit],
    people: Mapping[str, list[Recipient]],
) -> list[Outgoing]:
    out = []
    due = catalogue.calendar.due_at(period)
    seen: set[str] = set()
    for unit in missing:
        for person in people[unit.code]:
            if person.key in seen:
                continue
            seen.add(person.key)
            text = msg.missing_private(unit.name, period.label, due)
            out.append(Outgoing(person, reply(text)))
    return out


def _countdown(
    catalogue: Catalogue, recent: queries.Recent, code: str, days: int, now: datetime
) -> Reply | None:
    """None when no unit has reported the indicator lately: nothing useful to say."""
    cal = catalogue.calendar
    ind = catalogue.indicator(code)
    assert ind.deadline is not None  # planned only for indicators with a deadline
    today = cal.local(now).date()
    series = queries.dated(cal, recent.weeks)
    lines = [msg.countdown_title(ind.short, days, ind.deadline, target_text(ind))]
    day = day_word(catalogue)

    def per_day(remaining: int) -> str:
        """The daily quota to the deadline, counted as `[pace]` says."""
        assert ind.deadline is not None
        quota = daily_quota(remaining, today, ind.deadline, catalogue.pace, cal.closed_days)
        return format_int(quota.per_day)

    group = compute_pace(
        ind, points(ind, carry_forward([u.code for u in catalogue.units], series)), today
    )
    if group is None:
        return None
    group_rate = format_pct(
        rate_pct(group.numerator, group.denominator, ind.decimals, ind.truncate), ind.decimals
    )
    if group.met:
        lines.append(msg.countdown_met(group_rate))
    else:
        group_day = per_day(group.remaining)
        lines.append(msg.countdown_group(group_rate, format_int(group.remaining), group_day, day))
    behind: list[tuple[Unit, str, int, str]] = []
    for unit in catalogue.active_units:
        latest = next((r[unit.code] for _, r in reversed(series) if unit.code in r), None)
        result = ratio(ind, latest) if latest is not None else None
        if latest is None or result is None:
            continue
        pace = compute_pace(ind, points(ind, [(today, latest)]), today)
        if pace is not None and pace.remaining > 0:
            rate = format_pct(result.rate, ind.decimals)
            behind.append((unit, rate, pace.remaining, per_day(pace.remaining)))
    behind.sort(key=lambda item: (-item[2], item[0].name))
    if behind:
        lines.append(msg.COUNTDOWN_BEHIND)
        for unit, rate, remaining, need in behind[:BEHIND_LIMIT]:
            lines.append(
                msg.countdown_unit(unit.short_name, rate, format_int(remaining), need, day)
            )
    return reply("\n".join(lines))


# A nudge's post is tried once: a refusal is not retried (the backoff's first wait is longer),
# since the leader is told at once who was not reached and may nudge them again.
NUDGE_TRY = FIRST_RETRY

# --- /nhacnho: a leader's nudge ----------------------------------------------------------------


async def nudge(req: Request) -> list[Reply]:
    cat = req.catalogue
    schedule = cat.schedule
    now = req.message.sent_at
    if schedule.quiet(cat.calendar.local(now)):
        start, end = f"{schedule.quiet_start:%H:%M}", f"{schedule.quiet_end:%H:%M}"
        return [reply(msg.quiet_hours(start, end))]
    period = _period_arg(req.args) or cat.calendar.current(now)
    recent: set[str] = set()
    todo: list[Unit] = []
    people: dict[str, list[Recipient]] = {}
    posts: list[Outgoing] = []
    named: dict[str, set[str]] = {}
    chats: list[str] = []
    runner = req.postman()
    job_id = f"nudge:{period.key}:{now.astimezone(cat.calendar.tz):%Y%m%dT%H%M%S}"
    async with req.transaction() as uow:
        if await approval_of(uow, period) is not None:
            raise Refusal(msg.nudge_approved(period.label))  # final: nobody is asked
        missing = await queries.missing_units(cat, uow, period)
        if missing:
            since = now - schedule.nudge_interval
            recent = set(await uow.nudges.recent([u.code for u in missing], since))
            todo = [u for u in missing if u.code not in recent]
        if todo:
            await uow.nudges.add([u.code for u in todo], period.key, now, req.actor.sender.name)
            people = await _people(cat, uow, todo)
            posts, named = _nudge_posts(cat, _nudge_chats(req), period, todo, people)
            if req.notifiers:
                # Enqueued with the nudge itself; one try (the leader hears who was reached).
                # By the engine's clock (the drain's), not the message's own time.
                sending = req.now()
                rows = new_posts(job_id, period.key, posts, runner.notifiers, sending + NUDGE_TRY)
                chats = await enqueue(uow, rows, sending)
        # No answer kept: it says who the posts reached, known only once they were sent.
        # Handled again (its worker died), /nhacnho runs again and finds the units nudged
        # just now: nobody is nudged twice, and the leader is told so.
        await uow.commit()
    if not missing:
        return [reply(msg.nudge_nobody(period.label))]
    answer = []
    if todo:
        if not req.notifiers:
            # No platform to post through (a bare engine): the group post is the answer.
            return [p.message for p in posts if p.to.group][:1]
        delivered = await settle(runner, job_id, chats, posts, req.now())
        lines, missed = _nudge_outcome(todo, posts, named, people, delivered)
        answer += lines
        if missed:
            async with req.db.unit_of_work() as uow:
                await uow.nudges.forget([u.code for u in missed], now)
                await uow.commit()
    skipped = [u.short_name for u in missing if u.code in recent]
    if skipped:
        minutes = int(schedule.nudge_interval.total_seconds() // 60)
        answer.append(msg.nudge_recent(skipped, minutes))
    return [reply("\n".join(answer))]


def _nudge_posts(
    catalogue: Catalogue,
    chats: Sequence[str],
    period: Period,
    todo: Sequence[Unit],
    people: Mapping[str, list[Recipient]],
) -> tuple[list[Outgoing], dict[str, set[str]]]:
    """Each group's post names the units of its scope (a summary chat counts them per
    area), then one private message to each of their officers. Also returns, per group
    post's record key, the codes of the units it names."""
    due = catalogue.calendar.due_at(period)
    posts: list[Outgoing] = []
    named: dict[str, set[str]] = {}
    for key in chats:
        chat, view = catalogue.chat_by_key(key), catalogue.scoped(key)
        units = list(todo) if view is catalogue else [u for u in todo if view.has_unit(u.code)]
        if not units:
            continue
        header = msg.nudge_header(period.label, due, len(units))
        if chat is not None and chat.summary:
            post = _missing_by_area(header, units, chat.summary_by)
        else:
            post = _named_post(header, units, people)
        out = Outgoing(chat_recipient(catalogue, key), post)
        posts.append(out)
        named[out.record_key] = {u.code for u in units}
    return posts + _private_posts(catalogue, period, todo, people), named


def _nudge_outcome(
    units: Sequence[Unit],
    posts: Sequence[Outgoing],
    named: Mapping[str, set[str]],
    people: Mapping[str, list[Recipient]],
    delivered: Delivered,
) -> tuple[list[str], list[Unit]]:
    """Who was really reached: a unit is nudged when a group post naming it, or a private
    message to one of its officers, went out on some platform; whatever failed is named.
    Returns the answer's lines and the units reached by nothing."""
    reached_keys = {key for key, _ in delivered.reached}
    in_groups: set[str] = set()
    for p in posts:
        if p.to.group and p.record_key in reached_keys:
            in_groups |= named.get(p.record_key, set())
    reached_people = {p.to for p in posts if not p.to.group and p.record_key in reached_keys}
    reached = [
        u
        for u in units
        if u.code in in_groups or any(person in reached_people for person in people.get(u.code, ()))
    ]
    lines = []
    if reached:
        lines.append(msg.nudge_done([u.short_name for u in reached]))
    missed = [u for u in units if u not in reached]
    if missed:
        lines.append(msg.nudge_unreached([u.short_name for u in missed]))
    failed = list(dict.fromkeys(f.post.to.name for f in delivered.failed))
    if failed:
        lines.append(msg.nudge_failed_to(failed))
    return lines, missed


def _nudge_chats(req: Request) -> list[str]:
    """The group the leader typed in, else the groups scheduled posts go to."""
    chat = req.catalogue.chat_by_key(req.chat_key) if req.chat_key else None
    if chat is not None and chat.kind == "group":
        return [chat.key]
    return list(req.catalogue.schedule_chats)


def _period_arg(args: str) -> Period | None:
    try:
        return Period.parse(args.strip()) if args.strip() else None
    except ValueError:
        return None
