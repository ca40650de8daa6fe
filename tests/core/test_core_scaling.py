"""The national-scale shortcuts give exactly what the plain definitions give.

Name matching through an index, integer rounding of rates and a float-first sort key are
there for speed only; each is checked here against the straightforward version.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core.catalogue import (
    Catalogue,
    Unit,
    UnitMatch,
    build_catalogue,
    match_unit,
    strip_unit_type,
)
from core.matching import _diacritics_compatible
from core.numbers import percent, rate_pct, round_half_up
from core.ranking import rank
from core.text import collate, fold, key, strip_diacritics

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
CATALOGUE: Catalogue = build_catalogue(tomllib.loads(CONFIG.read_text(encoding="utf-8")))


def reference_match(units: Sequence[Unit], text: str) -> UnitMatch:
    """The matching as first written: every name of every unit normalised on every call."""
    wanted = fold(strip_unit_type(text))
    if not wanted:
        return UnitMatch(None)
    exact: dict[str, Unit] = {}
    loose: dict[str, Unit] = {}
    for unit in units:
        for name in (unit.name, unit.code, *unit.aliases):
            bare = fold(strip_unit_type(name))
            if bare == wanted or fold(name) == fold(text):
                exact[unit.code] = unit
            if key(bare) == key(wanted) or key(name) == key(text):
                loose[unit.code] = unit
    if len(exact) == 1:
        return UnitMatch(next(iter(exact.values())))
    if len(exact) > 1:
        return UnitMatch(None, tuple(exact.values()))
    if len(loose) == 1:
        only = next(iter(loose.values()))
        if _diacritics_compatible((wanted, fold(text)), (only.name, *only.aliases)):
            return UnitMatch(only)
        return UnitMatch(None, (only,))
    return UnitMatch(None, tuple(loose.values()))


NAMES = [n for u in CATALOGUE.units for n in (u.name, u.code, u.short_name, *u.aliases)]
SPELLINGS = st.sampled_from(NAMES).flatmap(
    lambda name: st.sampled_from(
        [
            name,
            name.upper(),
            strip_diacritics(name),
            f"xã {name}",
            f"TT. {strip_diacritics(name)}",
            name.replace("h", "k"),
            f"  {name.lower()} ",
        ]
    )
)


@given(SPELLINGS | st.text(max_size=20))
def test_the_unit_index_matches_like_the_reference(text: str) -> None:
    assert CATALOGUE.match_unit(text) == reference_match(CATALOGUE.units, text)


def test_ambiguous_names_keep_the_reference_order() -> None:
    units = [Unit("b", "Xã Bình An"), Unit("a", "Phường Bình An"), Unit("c", "Xã Bình Ân")]
    for text in ("Bình An", "binh an", "Bình Ân", "Phường Bình An"):
        assert match_unit(units, text) == reference_match(units, text)


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.integers(min_value=-5, max_value=10**9),
    st.integers(min_value=0, max_value=4),
)
def test_integer_rates_equal_fraction_rounding(numerator: int, denominator: int, d: int) -> None:
    exact = percent(numerator, denominator)
    expected = None if exact is None else round_half_up(exact, d)
    assert rate_pct(numerator, denominator, d) == expected


@given(
    st.lists(
        st.tuples(st.integers(0, 10**7), st.integers(0, 10**7)),
        min_size=len(CATALOGUE.units),
        max_size=len(CATALOGUE.units),
    )
)
def test_ranking_order_is_the_exact_order(pairs: list[tuple[int, int]]) -> None:
    indicator = CATALOGUE.indicator("eid_verified")
    current = {
        u.code: {"eid_verified": min(n, d), "citizen_id_issued": d}
        for u, (n, d) in zip(CATALOGUE.units, pairs, strict=True)
    }
    rows = rank(CATALOGUE, indicator, current).rows

    def exact(unit: Unit) -> Fraction:
        v = current[unit.code]
        rate = percent(v["eid_verified"], v["citizen_id_issued"])
        return Fraction(-1) if rate is None else rate

    expected = sorted((r.unit for r in rows), key=lambda u: (-exact(u), collate(u.name)))
    assert [r.unit for r in rows] == expected


def test_near_ties_beyond_float_precision_are_ordered_exactly() -> None:
    indicator = CATALOGUE.indicator("eid_verified")
    big = 10**17
    a, b = CATALOGUE.units[0], CATALOGUE.units[1]
    # Equal as floats, different as fractions: b's rate is the higher one.
    current = {
        a.code: {"eid_verified": big, "citizen_id_issued": big + 1},
        b.code: {"eid_verified": big + 1, "citizen_id_issued": big + 2},
    }
    assert 100 * big / (big + 1) == 100 * (big + 1) / (big + 2)
    rows = rank(CATALOGUE, indicator, current).rows
    assert [r.unit for r in rows] == [b, a]
