"""The reporting set-up: hierarchy, fields, indicators, rules, calendar, chats and people.

Built from the parsed TOML mapping by `build_catalogue` (the schema is core.config_schema),
which checks every key and raises `ConfigError` naming the key and what is wrong; reading the
file is the caller's job. Which unit a typed name means is core.matching's business.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

from core.matching import UNIT_TYPES, UnitIndex, UnitMatch, match_unit, strip_unit_type

# Re-exported: callers import the matching helpers from here as well.
from core.messages import area_scope, chat_scope
from core.periods import Calendar, Period
from core.quotas import Quota, with_quotas
from core.rules import Rule
from core.schedule import Schedule
from core.submission import Values
from core.text import label_key
from core.tiers import Tiers

__all__ = [
    "HOLIDAY_YEARS",
    "UNIT_TYPES",
    "WEEKDAYS",
    "Catalogue",
    "Chat",
    "ConfigError",
    "Field",
    "FloodLimits",
    "Indicator",
    "Milestone",
    "PaceRules",
    "Person",
    "Role",
    "Rule",
    "Tiers",
    "Unit",
    "UnitIndex",
    "UnitMatch",
    "build_catalogue",
    "match_unit",
    "strip_unit_type",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    """A configuration problem, with the key path where it was found."""

    def __init__(self, key: str, problem: str, source: str = "") -> None:
        self.key = key
        self.problem = problem
        self.source = source
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.key}: {self.problem}"

    def at(self, source: str) -> ConfigError:
        return ConfigError(self.key, self.problem, source)


class Role(StrEnum):
    OFFICER = "officer"
    LEADER = "leader"
    ADMIN = "admin"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    district: str | None = None
    exempt: bool = False
    province: str | None = None
    areas: tuple[str, ...] = ()  # named groupings of its own (a cluster, "cụm thi đua")

    @cached_property  # shown for every row of a national table
    def short_name(self) -> str:
        return strip_unit_type(self.name)

    @property
    def area_names(self) -> tuple[str, ...]:
        """Every named area it belongs to: province, district, then its `areas`."""
        return tuple(a for a in (self.province, self.district, *self.areas) if a)

    def area(self, level: str) -> str | None:
        """Its area at a summary's level: "province" or "district"."""
        return self.province if level == "province" else self.district


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    aliases: tuple[str, ...] = ()
    cumulative: bool = True
    required: bool = True


@dataclass(frozen=True)
class Milestone:
    """A dated target of an indicator, as the letters set them ("80.000 tài khoản đến 31/7",
    "100 % đến 30/10"): a count or a rate, for the whole area or (`unit`) for one unit. A rate
    applies to the area and to every unit alike; a count only to what it names."""

    on: date
    count: int | None = None
    rate: Decimal | None = None
    unit: str | None = None

    def applies_to(self, unit: str | None) -> bool:
        """Whether it is a target of `unit` (None: the whole area)."""
        return self.unit == unit or (self.unit is None and self.rate is not None)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    short: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    target: Decimal | None = None
    deadline: date | None = None
    decimals: int = 2
    columns: tuple[str, ...] = ()  # other indicators whose rates are shown beside this one
    tiers: Tiers | None = None  # bands (critical / warning / met) by two thresholds
    truncate: bool = False  # `rounding = "down"`: rates printed with the extra digits dropped
    milestones: tuple[Milestone, ...] = ()  # dated targets, by date
    # Count columns printed beside the rate: (field code, or "remaining"; the column's header).
    counts: tuple[tuple[str, str], ...] = ()

    @cached_property  # read for every unit of every ranking and every report checked
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.numerator + self.denominator))


@dataclass(frozen=True)
class Chat:
    key: str
    title: str
    kind: str  # "group" or "private"
    ids: Mapping[str, str] = field(default_factory=dict)  # platform -> chat id
    # platform -> the topic scheduled posts go to (a Telegram forum's message_thread_id)
    topics: Mapping[str, str] = field(default_factory=dict)
    # The units it covers (`areas` and `units`); None: every unit (no scope).
    scope: frozenset[str] | None = None
    scope_name: str = ""  # the scope in words ("Quảng Ngãi, Cụm 1")
    # "full": the weekly digest as every group gets it; "summary": at most three messages,
    # per-area totals and the top and bottom `top` units per indicator.
    digest: str = "full"
    summary_by: str = "province"  # the areas a summary totals: "province" or "district"
    top: int = 5

    @property
    def summary(self) -> bool:
        return self.digest == "summary"


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    role: Role
    unit: str | None = None
    ids: Mapping[str, str] = field(default_factory=dict)  # platform -> user id


@dataclass(frozen=True)
class Validation:
    """When a figure is held for /xacnhan as a likely typing slip (`[validation]`)."""

    # A figure at least `magnitude_high` times, or at most `magnitude_low` times, the unit's
    # previous figure (an extra or a missing zero) ...
    magnitude_high: Decimal = Decimal(5)
    magnitude_low: Decimal = Decimal("0.2")
    # ... and that far from it: small counts may well grow fivefold in a week.
    magnitude_min_change: int = 50


@dataclass(frozen=True)
class RegistrationRules:
    """How long a /dangky request waits and how many strangers may send (`[registration]`)."""

    # An unanswered request lapses after this; the person may ask again.
    expire_after: timedelta = timedelta(days=3)
    # Requests one sender, and everyone together, may make in 24 hours.
    per_sender_per_day: int = 3
    per_day: int = 50


@dataclass(frozen=True)
class FloodLimits:
    """How fast one sender may write and still be answered (`[limits]`)."""

    # Messages one sender may send in any minute; the next gets one "slow down"...
    per_minute: int = 20
    # ... and nothing more is answered (or stored) for this long.
    pause: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class PaceRules:
    """How a daily quota ("chỉ tiêu thực hiện trong ngày") is counted (`[pace]`): what is
    left ÷ the days left, as the letters compute it."""

    working_days: bool = False  # Monday to Friday without the calendar's days off
    round_up: bool = True  # else to the nearest whole number (half up)


@dataclass(frozen=True)
class Catalogue:
    title: str
    province: str
    district: str | None
    office: str
    units: tuple[Unit, ...]
    fields: tuple[Field, ...]
    indicators: tuple[Indicator, ...]
    rules: tuple[Rule, ...]
    calendar: Calendar
    chats: tuple[Chat, ...] = ()
    people: tuple[Person, ...] = ()
    schedule: Schedule = field(default_factory=Schedule)
    validation: Validation = field(default_factory=Validation)
    registration: RegistrationRules = field(default_factory=RegistrationRules)
    limits: FloodLimits = field(default_factory=FloodLimits)
    # `[group] area`: the whole area's level word ("huyện") and name ("Bình Sơn"), if given.
    area_level: str | None = None
    area_name: str | None = None
    # Problems that do not stop the bot, said once at load (bot/config_file.py logs them).
    warnings: tuple[str, ...] = ()
    quotas: tuple[Quota, ...] = ()  # per-unit numbers from the letters (`[[quotas]]`)
    pace: PaceRules = field(default_factory=PaceRules)
    # A chat's scope in words when this catalogue is one chat's view (`Catalogue.scoped`).
    scope_name: str | None = None
    # Lookups built once from the tuples above.
    _units: dict[str, Unit] = field(init=False, repr=False, compare=False)
    _fields: dict[str, Field] = field(init=False, repr=False, compare=False)
    _indicators: dict[str, Indicator] = field(init=False, repr=False, compare=False)
    _labels: dict[str, str] = field(init=False, repr=False, compare=False)
    _unit_index: UnitIndex = field(init=False, repr=False, compare=False)
    _people_by_id: dict[tuple[str, str], Person] = field(init=False, repr=False, compare=False)
    _people_by_key: dict[str, Person] = field(init=False, repr=False, compare=False)
    _views: dict[str, Catalogue] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_views", {})
        object.__setattr__(self, "_units", {u.code: u for u in self.units})
        object.__setattr__(self, "_fields", {f.code: f for f in self.fields})
        object.__setattr__(self, "_indicators", {i.code: i for i in self.indicators})
        labels: dict[str, str] = {}
        for f in self.fields:
            for text in (f.label, f.code, *f.aliases):
                labels.setdefault(label_key(text), f.code)
        object.__setattr__(self, "_labels", labels)
        # A national set-up has thousands of units and officers: look them up, never scan.
        object.__setattr__(self, "_unit_index", UnitIndex(self.units))
        by_id: dict[tuple[str, str], Person] = {}
        for p in self.people:
            for platform, ident in p.ids.items():
                by_id.setdefault((platform, ident), p)
        object.__setattr__(self, "_people_by_id", by_id)
        object.__setattr__(self, "_people_by_key", {p.key: p for p in self.people})

    def unit(self, code: str) -> Unit:
        return self._units[code]

    def field(self, code: str) -> Field:
        return self._fields[code]

    def indicator(self, code: str) -> Indicator:
        return self._indicators[code]

    def has_unit(self, code: str) -> bool:
        return code in self._units

    @property
    def ranked_indicators(self) -> tuple[Indicator, ...]:
        """Indicators with a target: the ones leaders rank and chase."""
        return tuple(i for i in self.indicators if i.target is not None)

    @property
    def active_units(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if not u.exempt)

    def field_for_label(self, text: str) -> str | None:
        return self._labels.get(label_key(text))

    def suggest_labels(self, text: str, limit: int = 3) -> list[str]:
        """The nearest valid labels (as configured, with diacritics) to an unknown one."""
        keys = self._labels
        close = difflib.get_close_matches(label_key(text), list(keys), n=limit * 3, cutoff=0.5)
        seen = dict.fromkeys(self.field(keys[k]).label for k in close)
        return list(seen)[:limit]

    def find_indicator(self, text: str) -> Indicator | None:
        wanted = label_key(text)
        for ind in self.indicators:
            if wanted in {label_key(ind.code), label_key(ind.short), label_key(ind.name)}:
                return ind
        matches = [i for i in self.indicators if wanted and wanted in label_key(i.name)]
        return matches[0] if len(matches) == 1 else None

    def match_unit(self, text: str) -> UnitMatch:
        return self._unit_index.match(text)

    def chat_by_key(self, key: str) -> Chat | None:
        return next((c for c in self.chats if c.key == key), None)

    def chat_for(self, platform: str, chat_id: str) -> Chat | None:
        return next((c for c in self.chats if c.ids.get(platform) == chat_id), None)

    def person_for(self, platform: str, user_id: str) -> Person | None:
        return self._people_by_id.get((platform, user_id))

    def person_by_key(self, key: str) -> Person | None:
        return self._people_by_key.get(key)

    def officers_of(self, unit_code: str) -> tuple[Person, ...]:
        return tuple(p for p in self.people if p.role is Role.OFFICER and p.unit == unit_code)

    def expected_units(self, period: Period) -> tuple[Unit, ...]:
        """Units expected to report for the period: not exempt, not excused that week."""
        excused, key = self.calendar.excused, period.key
        return tuple(u for u in self.active_units if (key, u.code) not in excused)

    @property
    def scope(self) -> str:
        """The whole area in a sentence: "toàn huyện", or "toàn đơn vị" without `area`; a
        scoped chat's view names its scope ("địa bàn Quảng Ngãi")."""
        if self.scope_name is not None:
            return chat_scope(self.scope_name)
        return area_scope(self.area_level)

    @cached_property
    def scope_codes(self) -> frozenset[str] | None:
        """A scoped chat's view: its units' codes (reads leave out the others); else None."""
        return None if self.scope_name is None else frozenset(u.code for u in self.units)

    def scoped(self, chat_key: str) -> Catalogue:
        """What a chat sees: for a chat with a scope, this set-up with only the scope's units
        (and the milestones that still mean something: a count for the whole area is a
        target of the whole set-up, not of a part); else this catalogue itself. Built once
        per chat."""
        chat = self.chat_by_key(chat_key) if chat_key else None
        if chat is None or chat.scope is None:
            return self
        view = self._views.get(chat.key)
        if view is None:
            scope = chat.scope
            indicators = tuple(
                replace(
                    ind,
                    milestones=tuple(
                        m for m in ind.milestones if m.rate is not None or m.unit in scope
                    ),
                )
                for ind in self.indicators
            )
            view = replace(
                self,
                units=tuple(u for u in self.units if u.code in scope),
                indicators=indicators,
                scope_name=chat.scope_name,
                warnings=(),
            )
            self._views[chat.key] = view
        return view

    @property
    def schedule_chats(self) -> tuple[str, ...]:
        """The chats scheduled posts go to: `[schedule] chats`, else every group chat."""
        return self.schedule.chats or tuple(c.key for c in self.chats if c.kind == "group")

    @cached_property  # asked for every report checked, and for every unit of a digest
    def labels(self) -> Mapping[str, str]:
        """Each field's label by its code."""
        return {f.code: f.label for f in self.fields}

    @cached_property  # asked for every report checked
    def quota_fields(self) -> frozenset[str]:
        """Fields the letters' quotas fill: officers never type them."""
        return frozenset(q.field for q in self.quotas)

    def with_quotas(self, period: Period, reports: Mapping[str, Values]) -> dict[str, Values]:
        """The week's reports with the quotas that apply on its due date filled in."""
        if not self.quotas:
            return dict(reports)
        return with_quotas(self.quotas, self.calendar.due_at(period).date(), reports)

    @property
    def deadlines(self) -> tuple[tuple[str, date], ...]:
        """(code, deadline) of the ranked indicators that have a deadline."""
        return tuple((i.code, i.deadline) for i in self.ranked_indicators if i.deadline)


# Years whose public holidays are computed; a due date outside them is never moved.
HOLIDAY_YEARS = range(2020, 2041)


def build_catalogue(data: Mapping[str, Any], default_tz: str = "Asia/Ho_Chi_Minh") -> Catalogue:
    """Check the parsed TOML and build the catalogue; raises ConfigError on the first problem.

    The schema lives in core.config_schema, which builds on the classes above."""
    from core.config_schema import build_catalogue as build

    return build(data, default_tz)
