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


def with_quotas(
    quotas: Sequence[Quota], on: date, reports: Mapping[str, Values]
) -> dict[str, Values]:
    """Each unit's report with the quotas that apply on `on` (a week's due date) filled in;
    the letter's number replaces a figure typed for the same field. Only the units of
    `reports` are looked up: a report's store asks for one unit of thousands."""
    if not quotas:
        return dict(reports)
    fields = dict.fromkeys(q.field for q in quotas)
    out: dict[str, Values] = {}
    for unit, values in reports.items():
        letters = {
            f: q.values[unit] for f in fields if (q := quota_on(quotas, f, unit, on)) is not None
        }
        out[unit] = {**values, **letters} if letters else values
    return out


def count_cells(
    counts: Sequence[str], values: Values, numerator: int, denominator: int
) -> list[int | None]:
    """The count columns of one row: each field's figure (None: not reported), and for
    `REMAINING` what is left, never below 0 (past the quota nothing is left to do)."""
    return [max(0, denominator - numerator) if c == REMAINING else values.get(c) for c in counts]
