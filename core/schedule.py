"""When the bot posts on its own: reminders, last calls, digests and deadline countdowns.

`plan` lists the posts due in a time window, in time order, from the calendar and the
`[schedule]` set-up. It is pure: the APScheduler service and the simulator's virtual clock
both ask it what to run, so they agree by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from core.periods import Calendar, Period

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class JobKind(StrEnum):
    EARLY = "remind"
    LAST_CALL = "lastcall"
    DIGEST = "digest"
    COUNTDOWN = "countdown"


# Posts that chase reports: pointless once the due time has passed.
REMINDERS = frozenset({JobKind.EARLY, JobKind.LAST_CALL})


@dataclass(frozen=True)
class WeeklyTime:
    """A weekday and a time of day, e.g. Friday 16:00."""

    weekday: int
    at: time

    @property
    def slug(self) -> str:
        return f"{WEEKDAY_KEYS[self.weekday]}{self.at:%H%M}"


@dataclass(frozen=True)
class Schedule:
    enabled: bool = True
    chats: tuple[str, ...] = ()  # chat keys the jobs post to; empty: every group chat
    early: tuple[WeeklyTime, ...] = (WeeklyTime(4, time(16, 0)), WeeklyTime(0, time(7, 30)))
    last_call: timedelta | None = timedelta(minutes=60)
    digest: tuple[WeeklyTime, ...] = (WeeklyTime(0, time(11, 0)),)
    countdown_days: tuple[int, ...] = (30, 14, 7, 3, 1)
    countdown_time: time = time(8, 0)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    grace: timedelta = timedelta(hours=2)
    nudge_interval: timedelta = timedelta(hours=1)

    def quiet(self, local: datetime) -> bool:
        """Inside quiet hours (local time); the window may span midnight."""
        t = local.timetz().replace(tzinfo=None)
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        if start < end:
            return start <= t < end
        return t >= start or t < end


@dataclass(frozen=True)
class Job:
    """One post the bot makes on its own; `id` is deterministic, so a job planned twice
    (by two processes, or before and after a restart) is the same job."""

    at: datetime
    kind: JobKind
    chat: str
    period: Period
    slot: str = ""  # which early reminder / digest time, or `indicator:days` for a countdown

    @property
    def id(self) -> str:
        base = f"{self.kind.value}:{self.chat}:{self.period.key}"
        return f"{base}:{self.slot}" if self.slot else base

    @property
    def countdown(self) -> tuple[str, int]:
        """(indicator code, days before the deadline) of a countdown job."""
        code, _, days = self.slot.rpartition(":")
        return code, int(days)


_ORDER = {JobKind.COUNTDOWN: 0, JobKind.EARLY: 1, JobKind.LAST_CALL: 2, JobKind.DIGEST: 3}


def _before(calendar: Calendar, due: datetime, slot: WeeklyTime) -> datetime:
    """The last `slot` moment strictly before `due`, within the week before it."""
    back = (due.weekday() - slot.weekday) % 7
    moment = datetime.combine(due.date() - timedelta(days=back), slot.at, tzinfo=calendar.tz)
    return moment - timedelta(days=7) if moment >= due else moment


def _after(calendar: Calendar, due: datetime, slot: WeeklyTime) -> datetime:
    """The first `slot` moment strictly after `due`, within the week after it."""
    ahead = (slot.weekday - due.weekday()) % 7
    moment = datetime.combine(due.date() + timedelta(days=ahead), slot.at, tzinfo=calendar.tz)
    return moment + timedelta(days=7) if moment <= due else moment


def digest_times(
    calendar: Calendar, schedule: Schedule, period: Period
) -> list[tuple[WeeklyTime, datetime]]:
    """Each digest slot of a period and when it posts (quiet hours not considered)."""
    regular = calendar.regular_due_at(period)
    due = calendar.due_at(period)
    # A due date moved by a holiday moves its digest by as many days.
    shift = due.date() - regular.date()
    return [(slot, _after(calendar, regular, slot) + shift) for slot in schedule.digest]


def plan(
    calendar: Calendar,
    schedule: Schedule,
    chats: Sequence[str],
    deadlines: Sequence[tuple[str, date]],
    start: datetime,
    end: datetime,
) -> list[Job]:
    """Jobs with `start < at <= end`, in time order (same time: countdown, early reminder,
    last call, digest; then chat order). Skipped weeks and quiet hours post nothing."""
    if not schedule.enabled or not chats or end <= start:
        return []
    jobs: list[Job] = []
    first = Period.of(calendar.local(start).date()).shift(-2)
    last = Period.of(calendar.local(end).date()).shift(2)
    period = first
    while period <= last:
        if not calendar.skipped(period):
            # Early reminders keep to the usual week even when a holiday moves the due date:
            # they are where the group learns of the move.
            regular = calendar.regular_due_at(period)
            due = calendar.due_at(period)
            for slot in schedule.early:
                jobs.append(
                    Job(_before(calendar, regular, slot), JobKind.EARLY, "", period, slot.slug)
                )
            if schedule.last_call is not None:
                jobs.append(Job(due - schedule.last_call, JobKind.LAST_CALL, "", period))
            for slot, at in digest_times(calendar, schedule, period):
                jobs.append(Job(at, JobKind.DIGEST, "", period, slot.slug))
        period = period.next()
    for code, deadline in deadlines:
        for days in schedule.countdown_days:
            day = deadline - timedelta(days=days)
            at = datetime.combine(day, schedule.countdown_time, tzinfo=calendar.tz)
            jobs.append(Job(at, JobKind.COUNTDOWN, "", Period.of(day), f"{code}:{days}"))
    out = [
        Job(job.at, job.kind, chat, job.period, job.slot)
        for job in jobs
        if start < job.at <= end and not schedule.quiet(calendar.local(job.at))
        for chat in chats
    ]
    out.sort(key=lambda j: (j.at, _ORDER[j.kind], chats.index(j.chat), j.slot))
    return out
