"""Per-unit quotas from the standing office's letters (`[[quotas]]` in the set-up file).

A letter gives each unit a fixed number for a field ("chỉ tiêu" column: Tân Hưng 14.975) that
officers never type; from the letter's date on it fills that field of every report the unit
sends, so an indicator whose denominator names the field is a rate against the quota. A later
letter replaces a unit's number from its own date; a week keeps the number that applied on
its due date, so history does not change when a new letter comes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from core.submission import Values

# In an indicator's `counts`: what is left, denominator − numerator ("chưa làm" = quota − done).
REMAINING = "remaining"


@dataclass(frozen=True)
class Quota:
    """One letter's numbers for one field: unit code -> count, from `start` on."""

    field: str
    start: date
    letter: str
    values: Mapping[str, int]


def quota_on(quotas: Sequence[Quota], field: str, unit: str, on: date) -> Quota | None:
    """The letter whose number for `unit` and `field` applies on `on`: the latest one dated
    on or before it that names the unit (None: no letter had given one yet)."""
    found: Quota | None = None
    for q in quotas:
        applies = q.field == field and unit in q.values and q.start <= on
        if applies and (found is None or q.start >= found.start):
            found = q
    return found


def quotas_on(quotas: Sequence[Quota], on: date) -> dict[str, dict[str, int]]:
    """Every unit's quotas that apply on `on`: unit code -> field -> count."""
    out: dict[str, dict[str, int]] = {}
    for field in dict.fromkeys(q.field for q in quotas):
        for unit in dict.fromkeys(u for q in quotas if q.field == field for u in q.values):
            q = quota_on(quotas, field, unit, on)
            if q is not None:
                out.setdefault(unit, {})[field] = q.values[unit]
    return out


def with_quotas(
    quotas: Sequence[Quota], on: date, reports: Mapping[str, Values]
) -> dict[str, Values]:
    """Each unit's report with the quotas that apply on `on` (a week's due date) filled in;
    the letter's number replaces a figure typed for the same field."""
    if not quotas:
        return dict(reports)
    applying = quotas_on(quotas, on)
    return {
        unit: {**values, **applying[unit]} if unit in applying else values
        for unit, values in reports.items()
    }


def count_cells(
    counts: Sequence[str], values: Values, numerator: int, denominator: int
) -> list[int | None]:
    """The count columns of one row: each field's figure (None: not reported), and for
    `REMAINING` what is left, never below 0 (past the quota nothing is left to do)."""
    return [max(0, denominator - numerator) if c == REMAINING else values.get(c) for c in counts]
