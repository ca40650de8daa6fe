"""Closing and approving a week: when a period stops taking reports directly, and the
correction requests and approvals that change it afterwards.

A period closes at `[calendar] close`: the end of its late window (the default), its first
digest post, or never. After that a report for it becomes a `Correction` an admin approves
or refuses; a leader's approval (`WeekApproval`) makes the figures final until an admin
reopens the week. Pure: the moments come from the calendar and the schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from core.catalogue import Catalogue
from core.numbers import format_pct
from core.periods import Calendar, Period
from core.ranking import ratio
from core.schedule import Schedule, digest_times
from core.submission import Sender

CLOSE_RULES = ("late_window", "digest", "never")

# Week states (`week_approvals.status`).
APPROVED, REOPENED = "approved", "reopened"
# Correction request states.
PENDING, ACCEPTED, REFUSED = "pending", "approved", "rejected"
# The `chat` of what an admin's spreadsheet import stored (a version, and the approved
# correction recording an import into a closed week): not a chat, the file.
IMPORT_CHAT = "import"


def closes_at(calendar: Calendar, schedule: Schedule, period: Period) -> datetime | None:
    """When `period` stops taking reports directly; None: never (`close = "never"`)."""
    if calendar.close == "never":
        return None
    end_of_late = calendar.due_at(period) + calendar.late_window
    if calendar.close == "digest" and schedule.enabled and schedule.digest:
        first = min(at for _, at in digest_times(calendar, schedule, period))
        return first.astimezone(UTC)
    return end_of_late.astimezone(UTC)


def is_closed(calendar: Calendar, schedule: Schedule, period: Period, now: datetime) -> bool:
    at = closes_at(calendar, schedule, period)
    return at is not None and now >= at


@dataclass(frozen=True)
class WeekApproval:
    """A period's approval state: approved (final) or reopened by an admin."""

    period: str
    status: str  # APPROVED or REOPENED
    by: str  # `platform:user_id`
    by_name: str
    at: datetime
    note: str = ""  # why it was reopened

    @property
    def approved(self) -> bool:
        return self.status == APPROVED


@dataclass(frozen=True)
class Correction:
    """A report for a closed period, waiting for an admin (or decided)."""

    id: int
    unit: str
    period: str
    values: Mapping[str, int]
    sender: Sender
    chat: str
    raw_text: str
    sent_at: datetime
    created_at: datetime
    warnings: tuple[str, ...] = ()
    status: str = PENDING
    old_values: Mapping[str, int] | None = None  # the figures it replaced, once approved
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    version: int | None = None  # the submission version it became

    @property
    def imported(self) -> bool:
        """An admin's import into a closed week, recorded as approved when it was stored."""
        return self.chat == IMPORT_CHAT


@dataclass(frozen=True)
class RateChange:
    indicator: str  # the indicator's short name
    old: str
    new: str


def rate_changes(
    catalogue: Catalogue, old: Mapping[str, int], new: Mapping[str, int]
) -> list[RateChange]:
    """Each indicator whose printed rate differs between two reports of one unit."""
    out = []
    for ind in catalogue.indicators:
        before, after = ratio(ind, old), ratio(ind, new)
        old_text = format_pct(before.rate if before else None, ind.decimals)
        new_text = format_pct(after.rate if after else None, ind.decimals)
        if old_text != new_text:
            out.append(RateChange(ind.short, old_text, new_text))
    return out


def digest_window(
    calendar: Calendar, schedule: Schedule, period: Period
) -> tuple[datetime, datetime]:
    """The window of approvals the digest of `period` announces: after the previous
    period's first digest, up to this one's (the due times when there is no digest), so
    every approved correction is announced by exactly one digest, the same in every chat."""

    def mark(p: Period) -> datetime:
        if schedule.digest:
            return min(at for _, at in digest_times(calendar, schedule, p))
        return calendar.due_at(p)

    return mark(period.previous()).astimezone(UTC), mark(period).astimezone(UTC)
