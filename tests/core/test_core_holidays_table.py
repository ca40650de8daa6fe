"""The holiday table start-up uses is what the `holidays` package computes for Vietnam."""

from __future__ import annotations

import holidays

from core.catalogue import HOLIDAY_YEARS
from core.holidays_vn import VIETNAM_HOLIDAYS


def test_the_table_is_the_packages_vietnam_holidays() -> None:
    expected = frozenset(holidays.country_holidays("VN", years=HOLIDAY_YEARS))
    assert expected == VIETNAM_HOLIDAYS, (
        "the holidays package disagrees with core/holidays_vn.py: regenerate the table "
        f"(missing {sorted(expected - VIETNAM_HOLIDAYS)[:5]}, "
        f"extra {sorted(VIETNAM_HOLIDAYS - expected)[:5]})"
    )
    assert {d.year for d in VIETNAM_HOLIDAYS} == set(HOLIDAY_YEARS)
