"""Reporting periods: the week whose due date a report counts for, and lateness."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
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


# --- months, quarters and years (the standing office's monthly, quarterly, yearly reports) ---

ReportKind = Literal["month", "quarter", "year"]
_ROMAN = ("I", "II", "III", "IV")
# `thang 11/2024`, `tháng 11`, `quý 4/2024`, `quy IV`, `năm 2024` (folded: no diacritics);
# the CLI's `2024-11`, `2024-Q4`, `2024`.
_SPOKEN = re.compile(
    r"\b(thang|quy|nam)\s*(\d{1,4}|iv|i{1,3})(?:(?:\s*[/\-.]\s*|\s+(?:nam\s+)?)(\d{4}))?(?![\w/])",
    re.IGNORECASE,
)
_WORD = re.compile(r"\b(thang|quy|nam)\b", re.IGNORECASE)
_MONTH_KEY = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER_KEY = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)
_YEAR_KEY = re.compile(r"\d{4}")


@dataclass(frozen=True)
class ReportPeriod:
    """A month, a quarter or a year of weekly reports. A week belongs to the one its due date
    (`Calendar.due_at`, moved off holidays) falls in: each week counts in exactly one month."""

    kind: ReportKind
    year: int
    number: int = 1  # the month (1-12) or the quarter (1-4); 1 for a year

    def __post_init__(self) -> None:
        top = {"month": 12, "quarter": 4, "year": 1}[self.kind]
        if not 1 <= self.number <= top:
            raise ValueError(f"no {self.kind} {self.number}")
        if not 1900 <= self.year <= 9998:
            raise ValueError(f"no year {self.year}")

    @classmethod
    def month(cls, year: int, month: int) -> ReportPeriod:
        return cls("month", year, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> ReportPeriod:
        return cls("quarter", year, quarter)

    @classmethod
    def whole_year(cls, year: int) -> ReportPeriod:
        return cls("year", year)

    @classmethod
    def parse_key(cls, kind: ReportKind, text: str) -> ReportPeriod:
        """The command line's `2024-11`, `2024-Q4` (or `2024Q4`), `2024`."""
        text = text.strip()
        if kind == "month" and (m := _MONTH_KEY.fullmatch(text)):
            return cls.month(int(m[1]), int(m[2]))
        if kind == "quarter" and (m := _QUARTER_KEY.fullmatch(text)):
            return cls.quarter(int(m[1]), int(m[2]))
        if kind == "year" and _YEAR_KEY.fullmatch(text):
            return cls.whole_year(int(text))
        raise ValueError(f"not a {kind}: {text!r}")

    @classmethod
    def find(cls, folded: str, today: date) -> tuple[ReportPeriod, str] | None:
        """The period named in `folded` (text without diacritics, as `core.text.key` makes
        it) and the text with it taken out; None when no period word is there. A month or a
        quarter without its year is the latest one that has begun by `today`. Raises
        ValueError for a period word with an impossible number (`thang 13`)."""
        m = _SPOKEN.search(folded)
        if m is None:
            if _WORD.search(folded):
                raise ValueError(f"not a period: {folded!r}")
            return None
        word, number, year_text = m[1].lower(), m[2].upper(), m[3]
        rest = (folded[: m.start()] + " " + folded[m.end() :]).strip()
        if word == "nam":
            if year_text is not None or not number.isdigit() or len(number) != 4:
                raise ValueError(f"not a year: {m[0]!r}")
            return cls.whole_year(int(number)), rest
        if number in _ROMAN and word == "quy":
            n = _ROMAN.index(number) + 1
        elif number.isdigit() and len(number) <= 2:
            n = int(number)
        else:
            raise ValueError(f"not a period: {m[0]!r}")
        kind: ReportKind = "month" if word == "thang" else "quarter"
        if year_text is not None:
            return cls(kind, int(year_text), n), rest
        found = cls(kind, today.year, n)
        if found.first_day > today:
            found = cls(kind, today.year - 1, n)
        return found, rest

    @property
    def first_day(self) -> date:
        if self.kind == "month":
            return date(self.year, self.number, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, 1, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> ReportPeriod:
        if self.kind == "year":
            return ReportPeriod("year", self.year + 1)
        top = 12 if self.kind == "month" else 4
        if self.number == top:
            return ReportPeriod(self.kind, self.year + 1, 1)
        return ReportPeriod(self.kind, self.year, self.number + 1)

    def previous(self) -> ReportPeriod:
        if self.kind == "year":
            return ReportPeriod("year", self.year - 1)
        top = 12 if self.kind == "month" else 4
        if self.number == 1:
            return ReportPeriod(self.kind, self.year - 1, top)
        return ReportPeriod(self.kind, self.year, self.number - 1)

    @property
    def key(self) -> str:
        """`2024-11`, `2024-Q4`, `2024`: the file name's part, as the CLI takes it."""
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def label(self) -> str:
        """As the letters write it: `tháng 11/2024`, `quý IV/2024`, `năm 2024`."""
        if self.kind == "month":
            return f"tháng {self.number}/{self.year}"
        if self.kind == "quarter":
            return f"quý {_ROMAN[self.number - 1]}/{self.year}"
        return f"năm {self.year}"

    def weeks(self, cal: Calendar) -> tuple[Period, ...]:
        """The ISO weeks whose due date falls in this period, in order."""
        # A due date is in its week or, moved off holidays, up to six days after it.
        week = Period.of(self.first_day - timedelta(days=13))
        out = []
        while week.monday <= self.last_day:
            if self.first_day <= cal.local(cal.due_at(week)).date() <= self.last_day:
                out.append(week)
            week = week.next()
        return tuple(out)

    def __str__(self) -> str:
        return self.key
