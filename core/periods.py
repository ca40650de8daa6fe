"""Reporting periods: the week whose due date a report counts for, and lateness."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_KEY = re.compile(r"(\d{4})-W(\d{1,2})")
_LABEL = re.compile(r"(?:tuần\s*|tuan\s*|w)?(\d{1,2})\s*[/\-.]\s*(\d{4})", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Period:
    """An ISO week; the period of a due date is the week it falls in."""

    year: int
    week: int

    def __post_init__(self) -> None:
        weeks_in_year = date(self.year, 12, 28).isocalendar().week
        if not 1 <= self.week <= weeks_in_year:
            raise ValueError(f"week {self.week} does not exist in {self.year}")

    @classmethod
    def of(cls, day: date) -> Period:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2024-W45` or `45/2024` (what officers write after `Tuần:`)."""
        text = text.strip()
        if m := _KEY.fullmatch(text):
            return cls(int(m[1]), int(m[2]))
        if m := _LABEL.fullmatch(text):
            return cls(int(m[2]), int(m[1]))
        raise ValueError(f"not a period: {text!r}")

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def label(self) -> str:
        return f"tuần {self.week}/{self.year}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def shift(self, weeks: int) -> Period:
        return Period.of(self.monday + timedelta(weeks=weeks))

    def previous(self) -> Period:
        return self.shift(-1)

    def next(self) -> Period:
        return self.shift(1)

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Placement:
    """Which period a report counts for, and whether it came after the due time."""

    period: Period
    late: bool


@dataclass(frozen=True)
class Calendar:
    """When reports are due: a weekday and time each week, and a window for late ones."""

    tz: ZoneInfo
    due_weekday: int = 0  # Monday
    due_time: time = time(10, 0)
    late_window: timedelta = timedelta(hours=48)
    # Public holidays and other days off: a due date on one of them moves (see `due_at`).
    closed_days: frozenset[date] = frozenset()
    # Period keys with no reporting at all: no reminders, no last call, no digest.
    skip_weeks: frozenset[str] = frozenset()
    # (period key, unit code): a unit excused from reporting for one week.
    excused: frozenset[tuple[str, str]] = frozenset()
    # When a period closes to direct reports (`[calendar] close`, core/closing.py):
    # "late_window" (its end), "digest" (the first digest post) or "never".
    close: str = "late_window"

    def regular_due_at(self, period: Period) -> datetime:
        day = period.monday + timedelta(days=self.due_weekday)
        return datetime.combine(day, self.due_time, tzinfo=self.tz)

    def due_at(self, period: Period) -> datetime:
        """The due time, moved off a closed day to the next working day (Monday to Friday,
        not closed) before the next period's usual due day; failing that (Tết can close a
        whole week) to the next day that is not closed; failing that it stays."""
        regular = self.regular_due_at(period)
        if regular.date() not in self.closed_days:
            return regular
        days = [regular.date() + timedelta(days=n) for n in range(1, 7)]
        open_days = [d for d in days if d not in self.closed_days]
        day = next((d for d in open_days if d.weekday() < 5), None)
        if day is None and open_days:
            day = open_days[0]
        return regular if day is None else datetime.combine(day, self.due_time, tzinfo=self.tz)

    def due_moved(self, period: Period) -> bool:
        return self.due_at(period) != self.regular_due_at(period)

    def skipped(self, period: Period) -> bool:
        return period.key in self.skip_weeks

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime: every moment must carry its timezone")
        return moment.astimezone(self.tz)

    def place(self, sent_at: datetime) -> Placement:
        """Before the due time a report counts for the coming due date; after it, as late
        for that period until the late window closes, then for the next one."""
        moment = self.local(sent_at)
        this_week = Period.of(moment.date())
        # The latest period whose due time has passed; a holiday can move a due time up to
        # six days later, into the next ISO week, so look two periods back.
        last = this_week.previous().previous()
        for candidate in (this_week, this_week.previous()):
            if moment >= self.due_at(candidate):
                last = candidate
                break
        # Elapsed real time: subtracting two datetimes of one zone would count wall-clock hours.
        if moment.astimezone(UTC) - self.due_at(last).astimezone(UTC) < self.late_window:
            return Placement(last, late=True)
        return Placement(last.next(), late=False)

    def place_in(self, period: Period, sent_at: datetime) -> Placement:
        """A report that names its period: late when sent after that period's due time."""
        return Placement(period, late=self.local(sent_at) >= self.due_at(period))

    def current(self, now: datetime) -> Period:
        """The period leaders mean by "this week": the one a report sent now would count for."""
        return self.place(now).period
