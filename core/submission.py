"""What the engine knows about a stored report, independent of how it is stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# A report's figures: field code -> count.
Values = Mapping[str, int]


@dataclass(frozen=True)
class Sender:
    """Who sent a message: a platform and the user's id there, with a display name."""

    platform: str
    user_id: str
    name: str


@dataclass(frozen=True)
class Submission:
    """One version of one unit's report for one period."""

    unit: str  # unit code
    period: str  # period key, `2024-W45`
    version: int
    values: Mapping[str, int]
    late: bool
    sent_at: datetime  # the message's own timestamp, timezone-aware
    sender: Sender
    chat: str = ""
    raw_text: str = ""
    warnings: tuple[str, ...] = ()
    current: bool = True


@dataclass(frozen=True)
class Registration:
    id: int
    sender: Sender
    unit: str
    role: str
    status: str  # pending, approved, rejected
    created_at: datetime
    decided_by: str | None = None


@dataclass(frozen=True)
class PendingReport:
    """A report held until its sender confirms a warning (a cumulative figure that fell)."""

    sender: Sender
    chat: str
    unit: str
    period: str
    late: bool
    values: Mapping[str, int]
    raw_text: str
    sent_at: datetime
    warnings: tuple[str, ...] = field(default=())
    held_at: datetime | None = None  # when it was held (an admin's import may wait beside it)
