"""Which configured unit a typed name means.

With or without the unit type (`Xã`, `TT.`) and diacritics, through aliases; but never a
silent match between names that differ only in a diacritic (`Bình Thanh` is not
`Bình Thạnh`): then the candidates are returned for the officer to choose from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.text import clean, key, modern_tones
from core.text import fold as _plain_fold

if TYPE_CHECKING:  # core.catalogue imports this module for Unit.short_name and its index
    from core.catalogue import Unit

UNIT_TYPES = ("thị trấn", "đặc khu", "phường", "xã", "tt", "p", "x")
# `UBND xã Bình Thuận`: the commune's People's Committee, as letters head their reports.
_COMMITTEE = r"(?:ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+"
_UNIT_TYPE_RE = re.compile(
    r"^(?:" + _COMMITTEE + r")?(?:" + "|".join(re.escape(t) for t in UNIT_TYPES) + r")[\s.]+"
)


def fold(text: str) -> str:
    """Case-folded, diacritics kept, the tone mark where the new spelling puts it: `Tân Hoà`
    and `Tân Hòa` are one name."""
    return modern_tones(_plain_fold(text))


def strip_unit_type(name: str) -> str:
    """`Xã Bình Long` -> `Bình Long`; `TT. Châu Ổ` -> `Châu Ổ`."""
    text = clean(name)
    stripped = _UNIT_TYPE_RE.sub("", text.casefold(), count=1)
    return text[len(text) - len(stripped) :] if stripped != text.casefold() else text


@dataclass(frozen=True)
class UnitMatch:
    """The unit a name means, or the candidates to ask about, or nothing."""

    unit: Unit | None
    candidates: tuple[Unit, ...] = ()


def match_unit(units: Sequence[Unit], text: str) -> UnitMatch:
    """Match with or without the unit type and diacritics, through aliases, but never
    silently between units whose names differ only in diacritics."""
    return UnitIndex(units).match(text)


class UnitIndex:
    """Every written form of every unit's names, so a match costs a few dictionary lookups
    instead of normalising every name of every unit (3,321 units nationally)."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self._position = {u.code: i for i, u in enumerate(units)}
        # exact: folded (diacritics kept), bare (type stripped) or full; loose: without diacritics
        self._exact: dict[str, list[Unit]] = {}
        self._loose: dict[str, list[Unit]] = {}
        for unit in units:
            for name in (unit.name, unit.code, *unit.aliases):
                bare = fold(strip_unit_type(name))
                for index, form in (
                    (self._exact, bare),
                    (self._exact, fold(name)),
                    (self._loose, key(bare)),
                    (self._loose, key(name)),
                ):
                    found = index.setdefault(form, [])
                    if unit not in found:
                        found.append(unit)

    def _lookup(self, index: dict[str, list[Unit]], *forms: str) -> list[Unit]:
        units = {u.code: u for form in forms for u in index.get(form, ())}
        return sorted(units.values(), key=lambda u: self._position[u.code])

    def match(self, text: str) -> UnitMatch:
        wanted = fold(strip_unit_type(text))
        if not wanted:
            return UnitMatch(None)
        # A typed bare name may equal a unit's full name and vice versa; both count, as before.
        exact = self._lookup(self._exact, wanted, fold(text))
        exact = [u for u in exact if _exact_match(u, wanted, text)]
        if len(exact) == 1:
            return UnitMatch(exact[0])
        if len(exact) > 1:
            return UnitMatch(None, tuple(exact))
        loose = self._lookup(self._loose, key(wanted), key(text))
        loose = [u for u in loose if _loose_match(u, wanted, text)]
        if len(loose) == 1:
            only = loose[0]
            # A diacritic-free spelling is fine; a different diacritic is another name.
            if _diacritics_compatible((wanted, fold(text)), (only.name, *only.aliases)):
                return UnitMatch(only)
            return UnitMatch(None, (only,))
        return UnitMatch(None, tuple(loose))


def _names(unit: Unit) -> tuple[str, ...]:
    return (unit.name, unit.code, *unit.aliases)


def _exact_match(unit: Unit, wanted: str, text: str) -> bool:
    return any(fold(strip_unit_type(n)) == wanted or fold(n) == fold(text) for n in _names(unit))


def _loose_match(unit: Unit, wanted: str, text: str) -> bool:
    return any(key(strip_unit_type(n)) == key(wanted) or key(n) == key(text) for n in _names(unit))


def _diacritics_compatible(typed: Sequence[str], names: Sequence[str]) -> bool:
    """True when every accented letter typed also appears, accented the same way, in a name:
    `binh long` and `Bình Long` are compatible, `Bình Thạnh` and `Bình Thanh` are not.
    Typed and configured names are compared with and without their unit type."""
    for name in names:
        for target in (fold(strip_unit_type(name)), fold(name)):
            for text in typed:
                if len(target) == len(text) and all(
                    t == n or (key(t) == key(n) and key(t) == t)
                    for t, n in zip(text, target, strict=True)
                ):
                    return True
    return False
