"""Bands of a rate, as a province ranks its units: `[[indicators]] tiers = [80, 90]` puts a
rate below 80 % in the critical band, from 80 % to below 90 % in the warning band and from
90 % in the met band. Compared on the exact rate, as targets are (core.ranking.meets): a
printed 80,00 % that is really 79,996 % is still below 80 %."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction
from typing import TYPE_CHECKING

from core import messages as msg
from core.numbers import format_goal_pct

if TYPE_CHECKING:  # core.catalogue imports Tiers, and core.ranking imports core.catalogue
    from core.ranking import Ratio, Row


class Band(IntEnum):
    """Ordered: a higher band is better; rankings list the best band first."""

    CRITICAL = 0
    WARNING = 1
    MET = 2


# A mark per band where a colour cannot be shown (chat texts).
MARKS = {Band.CRITICAL: "🔴", Band.WARNING: "🟡", Band.MET: "🟢"}


@dataclass(frozen=True)
class Tiers:
    """Two thresholds in percent, `low < high`."""

    low: Decimal
    high: Decimal

    def band(self, r: Ratio) -> Band | None:
        """The band of a ratio's exact rate (None: nothing to divide by)."""
        if r.denominator <= 0:
            return None
        # rate >= t  <=>  numerator · 100 · t.den >= t.num · denominator (denominator > 0)
        scaled = r.numerator * 100
        for threshold, band in ((self.high, Band.MET), (self.low, Band.WARNING)):
            t = Fraction(threshold)
            if scaled * t.denominator >= t.numerator * r.denominator:
                return band
        return Band.CRITICAL


def shown_band(tiers: Tiers, r: Ratio) -> Band:
    """The band a ranking shows a row in: a rate that is undefined (nothing to divide by) is
    shown as critical, as it is shown as not met."""
    band = tiers.band(r)
    return Band.CRITICAL if band is None else band


def by_band(tiers: Tiers, rows: Sequence[Row]) -> list[tuple[Band, tuple[Row, ...]]]:
    """The rows of each band that has any, best band first, each in the ranking's order."""
    groups: dict[Band, list[Row]] = {band: [] for band in sorted(Band, reverse=True)}
    for row in rows:
        groups[shown_band(tiers, row.ratio)].append(row)
    return [(band, tuple(found)) for band, found in groups.items() if found]


def sections(
    tiers: Tiers, rows: Sequence[Row], marks: bool = True
) -> list[tuple[str, tuple[Row, ...]]]:
    """(title, rows) of each band that has any, as a ranking lists them; `marks`: each title
    starts with its band's mark (chat texts; files show colours instead)."""
    return [
        (msg.section_band(MARKS[band] if marks else "", label(tiers, band), len(found)), found)
        for band, found in by_band(tiers, rows)
    ]


def counts(tiers: Tiers, rows: Sequence[Row]) -> str:
    """How many units in each band, one line (the digest, the `/xephang` overview)."""
    return msg.band_counts(
        [(MARKS[band], label(tiers, band), len(found)) for band, found in by_band(tiers, rows)]
    )


def label(tiers: Tiers, band: Band) -> str:
    """The band in words, by its thresholds: "dưới 80%", "từ 80% đến dưới 90%", "từ 90%"."""
    return msg.band_label(band, format_goal_pct(tiers.low), format_goal_pct(tiers.high))
