"""Checking a report's values: errors refuse it, confirmations hold it for /xacnhan, warnings
are shown and stored with it. `[[rules]]` say which of the three each broken rule is."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core import messages as msg
from core.catalogue import Catalogue
from core.numbers import format_int
from core.rules import Breach, Severity
from core.submission import Values

# A weekly increase is "far outside the recent range" when it is more than JUMP_FACTOR times
# the largest recent weekly increase and at least JUMP_FLOOR more than it.
JUMP_FACTOR = 3
JUMP_FLOOR = 50
JUMP_MIN_WEEKS = 2


@dataclass(frozen=True)
class Review:
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # Warnings the officer must confirm before the report is stored (a cumulative figure fell).
    confirmations: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return not self.errors


def review(
    values: Values,
    catalogue: Catalogue,
    history: Sequence[Values] = (),
    with_letters: Values | None = None,
) -> Review:
    """`history` holds the unit's accepted values of earlier periods, most recent first.
    `with_letters` is `values` with the week's quotas filled in (core/quotas.py): the
    `[[rules]]` see them (`eid_activated <= accounts_quota`), the other checks only what was
    typed (a unit past its quota is never refused by the indicator's own check)."""
    errors: list[str] = []
    label = catalogue.labels

    missing = [f.label for f in catalogue.fields if f.required and f.code not in values]
    if missing:
        errors.append(msg.missing_fields(missing))
    quotas = catalogue.quota_fields  # filled in from the letters (core/quotas.py), never typed
    for ind in catalogue.indicators:
        typed = [c for c in ind.fields if c not in quotas]
        present = [c for c in typed if c in values]
        if present and len(present) < len(typed):
            absent = [label[c] for c in typed if c not in values]
            errors.append(msg.incomplete_indicator(ind.short, absent))
    if not values and not missing:
        errors.append(msg.no_values())

    ruled = values if with_letters is None else with_letters
    breaches = {severity: _breaches(catalogue, ruled, severity) for severity in Severity}
    broken: set[tuple[str, ...]] = set()
    for breach in breaches[Severity.ERROR]:
        if breach.pair is not None:
            broken.add(breach.pair)
        errors.append(breach.describe(label, ruled))
    for ind in catalogue.indicators:
        if not all(c in values for c in ind.fields) or ind.numerator + ind.denominator in broken:
            continue  # a broken rule already said it
        num = sum(values[c] for c in ind.numerator)
        den = sum(values[c] for c in ind.denominator)
        if num > den:
            errors.append(msg.numerator_exceeds(ind.short, format_int(num), format_int(den)))
    if errors:
        return Review(errors=tuple(dict.fromkeys(errors)))

    warnings = [b.describe(label, ruled) for b in breaches[Severity.WARNING]]
    confirmations = [b.describe(label, ruled) for b in breaches[Severity.CONFIRM]]
    last = history[0] if history else None
    for f in catalogue.fields:
        if f.code not in values or last is None or f.code not in last:
            continue
        now, before = values[f.code], last[f.code]
        slip = _magnitude_slip(catalogue, f.label, now, before)
        if slip is not None:
            # One week of history is enough to see an extra or a missing zero.
            confirmations.append(slip)
            continue
        if not f.cumulative:
            continue
        if now < before:
            confirmations.append(msg.cumulative_fell(f.label, format_int(now), format_int(before)))
            continue
        deltas = [
            newer[f.code] - older[f.code]
            for newer, older in itertools.pairwise(history)
            if f.code in newer and f.code in older
        ]
        if len(deltas) >= JUMP_MIN_WEEKS:
            usual = max(max(deltas), 0)
            step = now - before
            if step > JUMP_FACTOR * usual and step - usual >= JUMP_FLOOR:
                warnings.append(msg.unusual_jump(f.label, format_int(step), format_int(usual)))
    return Review(warnings=tuple(warnings), confirmations=tuple(confirmations))


def _breaches(catalogue: Catalogue, values: Values, severity: Severity) -> list[Breach]:
    return [b for r in catalogue.rules if r.severity is severity for b in r.breaches(values)]


def rule_warnings(catalogue: Catalogue, values: Values) -> list[str]:
    """What the `warning` rules say about a stored report (the digest lists them)."""
    label = catalogue.labels
    return [b.describe(label, values) for b in _breaches(catalogue, values, Severity.WARNING)]


def _magnitude_slip(catalogue: Catalogue, label: str, now: int, before: int) -> str | None:
    """A figure so far from the unit's previous one that a zero was likely typed or dropped."""
    limits = catalogue.validation
    if now <= 0 or before <= 0 or abs(now - before) < limits.magnitude_min_change:
        return None
    ratio = Decimal(now) / Decimal(before)
    if ratio >= limits.magnitude_high:
        return msg.magnitude_high(label, format_int(now), format_int(before), _times(ratio))
    if ratio <= limits.magnitude_low:
        return msg.magnitude_low(label, format_int(now), format_int(before), _times(1 / ratio))
    return None


def _times(ratio: Decimal) -> str:
    """10.04 -> "10", 5.26 -> "5,3": how many times, as a person would say it."""
    if ratio >= 10:
        return format_int(int(ratio.to_integral_value()))
    text = f"{ratio:.1f}".replace(".", ",")
    return text.removesuffix(",0")
