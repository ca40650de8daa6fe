"""The reporting set-up: hierarchy, fields, indicators, rules, calendar, chats and people.

Built from the parsed TOML mapping by `build_catalogue`, which checks every key and
raises `ConfigError` naming the key and what is wrong; reading the file is the caller's job.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.periods import Calendar, Period
from core.schedule import Schedule, WeeklyTime
from core.text import clean, fold, key, label_key

UNIT_TYPES = ("thị trấn", "đặc khu", "phường", "xã", "tt", "p", "x")
_UNIT_TYPE_RE = re.compile(r"^(?:" + "|".join(re.escape(t) for t in UNIT_TYPES) + r")[\s.]+")
_CODE_RE = re.compile(r"[a-z][a-z0-9_]*")
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

    @cached_property  # shown for every row of a national table
    def short_name(self) -> str:
        return strip_unit_type(self.name)


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    aliases: tuple[str, ...] = ()
    cumulative: bool = True
    required: bool = True


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

    @cached_property  # read for every unit of every ranking and every report checked
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.numerator + self.denominator))


@dataclass(frozen=True)
class Rule:
    """Each field of the chain is at most the next: `a <= b <= c`."""

    chain: tuple[str, ...]


@dataclass(frozen=True)
class Chat:
    key: str
    title: str
    kind: str  # "group" or "private"
    ids: Mapping[str, str] = field(default_factory=dict)  # platform -> chat id


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    role: Role
    unit: str | None = None
    ids: Mapping[str, str] = field(default_factory=dict)  # platform -> user id


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
    # Lookups built once from the tuples above.
    _units: dict[str, Unit] = field(init=False, repr=False, compare=False)
    _fields: dict[str, Field] = field(init=False, repr=False, compare=False)
    _indicators: dict[str, Indicator] = field(init=False, repr=False, compare=False)
    _labels: dict[str, str] = field(init=False, repr=False, compare=False)
    _unit_index: UnitIndex = field(init=False, repr=False, compare=False)
    _people_by_id: dict[tuple[str, str], Person] = field(init=False, repr=False, compare=False)
    _people_by_key: dict[str, Person] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
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
    def schedule_chats(self) -> tuple[str, ...]:
        """The chats scheduled posts go to: `[schedule] chats`, else every group chat."""
        return self.schedule.chats or tuple(c.key for c in self.chats if c.kind == "group")

    @property
    def deadlines(self) -> tuple[tuple[str, date], ...]:
        """(code, deadline) of the ranked indicators that have a deadline."""
        return tuple((i.code, i.deadline) for i in self.ranked_indicators if i.deadline)


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


# --- building from the TOML mapping -------------------------------------------------------


def build_catalogue(data: Mapping[str, Any], default_tz: str = "Asia/Ho_Chi_Minh") -> Catalogue:
    """Check the parsed TOML and build the catalogue; raises ConfigError on the first problem."""
    r = _Reader(data, "")
    group = r.table("group")
    units = _units(r.array("units", required=True))
    fields = _fields(r.array("fields", required=True))
    field_codes = {f.code for f in fields}
    indicators = _indicators(r.array("indicators", required=True), field_codes)
    rules = tuple(
        Rule(tuple(_field_refs(item, "chain", field_codes, min_len=2))) for item in r.array("rules")
    )
    calendar = _calendar(r.table("calendar"), default_tz, {u.code for u in units})
    chats = _chats(r.table("chats"))
    people = _people(r.table("people"), {u.code for u in units})
    schedule = _schedule(r.table("schedule"), {c.key for c in chats})
    group_fields = (
        group.string("name", default="Tổ Công tác Đề án 06"),
        group.string("province", default=""),
        group.optional_string("district"),
        group.string("office", default="Thường trực Tổ Công tác Đề án 06"),
    )
    group.done()
    r.done()
    title, province, district, office = group_fields
    return Catalogue(
        title=title,
        province=province,
        district=district,
        office=office,
        units=units,
        fields=fields,
        indicators=indicators,
        rules=rules,
        calendar=calendar,
        chats=chats,
        people=people,
        schedule=schedule,
    )


class _Reader:
    """Reads one TOML table, remembering which keys were used so unknown ones are refused."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(path or "(gốc)", "phải là một bảng (table)")
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def _key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str) -> Any:
        self.used.add(name)
        return self.data.get(name)

    def table(self, name: str) -> _Reader:
        value = self.get(name)
        return _Reader({} if value is None else value, self._key(name))

    def array(self, name: str, required: bool = False) -> list[_Reader]:
        value = self.get(name)
        if value is None:
            if required:
                raise ConfigError(self._key(name), "thiếu (missing); cần ít nhất một mục")
            return []
        if not isinstance(value, list) or (required and not value):
            raise ConfigError(self._key(name), "phải là một mảng bảng [[...]] không rỗng")
        return [_Reader(item, f"{self._key(name)}[{i}]") for i, item in enumerate(value)]

    def string(self, name: str, default: str | None = None) -> str:
        value = self.get(name)
        if value is None:
            if default is None:
                raise ConfigError(self._key(name), "thiếu (missing)")
            return default
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(self._key(name), f"phải là chuỗi không rỗng, không phải {value!r}")
        return clean(value)

    def optional_string(self, name: str) -> str | None:
        return None if self.get(name) is None else self.string(name)

    def code(self, name: str = "code") -> str:
        value = self.string(name)
        if not _CODE_RE.fullmatch(value):
            raise ConfigError(self._key(name), f"{value!r} phải gồm chữ thường a-z, số và _")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.get(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(self._key(name), "phải là danh sách chuỗi")
        return tuple(clean(v) for v in value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(self._key(name), f"phải là true hoặc false, không phải {value!r}")
        return value

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ConfigError(self._key(name), f"phải là số nguyên từ {lo} đến {hi}")
        return value

    def ident(self, name: str) -> str | None:
        """A platform id: TOML integer or string, kept as text."""
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
            raise ConfigError(self._key(name), "phải là số hoặc chuỗi (id trên nền tảng)")
        return str(value).strip()

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(self._key(unknown[0]), "khóa không được hỗ trợ (unknown key)")


def _unique(items: Sequence[Any], path: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.code in seen:
            raise ConfigError(f"{path}[{i}].code", f"mã {item.code!r} bị trùng")
        seen.add(item.code)


def _units(items: list[_Reader]) -> tuple[Unit, ...]:
    units = []
    for r in items:
        units.append(
            Unit(
                code=r.code(),
                name=r.string("name"),
                aliases=r.strings("aliases"),
                district=r.optional_string("district"),
                exempt=r.boolean("exempt", False),
            )
        )
        r.done()
    _unique(units, "units")
    # Two units must never answer to the same written name, or reports could be misfiled.
    owners: dict[str, str] = {}
    for i, unit in enumerate(units):
        for name in (unit.name, *unit.aliases):
            k = fold(strip_unit_type(name))
            if owners.setdefault(k, unit.code) != unit.code:
                raise ConfigError(f"units[{i}]", f"tên {name!r} trùng với đơn vị {owners[k]!r}")
    return tuple(units)


def _fields(items: list[_Reader]) -> tuple[Field, ...]:
    fields = []
    owners: dict[str, str] = {}
    for i, r in enumerate(items):
        f = Field(
            code=r.code(),
            label=r.string("label"),
            aliases=r.strings("aliases"),
            cumulative=r.boolean("cumulative", True),
            required=r.boolean("required", True),
        )
        r.done()
        for text in (f.label, f.code, *f.aliases):
            k = label_key(text)
            if owners.setdefault(k, f.code) != f.code:
                raise ConfigError(f"fields[{i}]", f"nhãn {text!r} trùng với trường {owners[k]!r}")
        fields.append(f)
    _unique(fields, "fields")
    return tuple(fields)


def _field_refs(r: _Reader, name: str, known: set[str], min_len: int = 1) -> list[str]:
    refs = list(r.strings(name))
    if len(refs) < min_len:
        raise ConfigError(r._key(name), f"cần ít nhất {min_len} trường")
    for ref in refs:
        if ref not in known:
            raise ConfigError(r._key(name), f"trường {ref!r} không có trong [[fields]]")
    r.done()
    return refs


def _indicators(items: list[_Reader], fields: set[str]) -> tuple[Indicator, ...]:
    indicators = []
    for r in items:
        code = r.code()
        numerator = tuple(r.strings("numerator"))
        denominator = tuple(r.strings("denominator"))
        for name, refs in (("numerator", numerator), ("denominator", denominator)):
            if not refs:
                raise ConfigError(r._key(name), "cần ít nhất một trường")
            for ref in refs:
                if ref not in fields:
                    raise ConfigError(r._key(name), f"trường {ref!r} không có trong [[fields]]")
        target = r.get("target")
        if target is not None:
            try:
                target = Decimal(str(target))
            except InvalidOperation:
                target = None
            bad = isinstance(r.data["target"], bool) or target is None or not target.is_finite()
            if bad or not 0 < target <= 100:
                raise ConfigError(r._key("target"), "phải là số phần trăm trong (0, 100]")
        deadline = r.get("deadline")
        if deadline is not None and not (isinstance(deadline, date) and type(deadline) is date):
            raise ConfigError(r._key("deadline"), "phải là ngày dạng 2024-12-31 (không ngoặc kép)")
        name = r.string("name")
        indicators.append(
            Indicator(
                code=code,
                name=name,
                short=r.string("short", default=name),
                numerator=numerator,
                denominator=denominator,
                target=target,
                deadline=deadline,
                decimals=r.integer("decimals", 2, 0, 4),
                columns=r.strings("columns"),
            )
        )
        r.done()
    _unique(indicators, "indicators")
    codes = {i.code for i in indicators}
    for n, ind in enumerate(indicators):
        for col in ind.columns:
            if col not in codes or col == ind.code:
                raise ConfigError(f"indicators[{n}].columns", f"{col!r} không phải chỉ tiêu khác")
    return tuple(indicators)


def _parse_time(r: _Reader, name: str, default: time) -> time:
    raw = r.get(name)
    if raw is None:
        return default
    if isinstance(raw, time):
        return raw
    if isinstance(raw, str) and (m := re.fullmatch(r"(\d{1,2})[:h](\d{2})", raw.strip())):
        hour, minute = int(m[1]), int(m[2])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ConfigError(r._key(name), f'phải là giờ dạng "10:00", không phải {raw!r}')


def _calendar(r: _Reader, default_tz: str, units: set[str]) -> Calendar:
    tz_name = r.string("timezone", default=default_tz)
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(r._key("timezone"), f"múi giờ {tz_name!r} không tồn tại") from exc
    weekday = r.string("due_weekday", default="monday").lower()
    if weekday not in WEEKDAYS:
        raise ConfigError(r._key("due_weekday"), f"phải là một trong {', '.join(WEEKDAYS)}")
    calendar = Calendar(
        tz=tz,
        due_weekday=WEEKDAYS.index(weekday),
        due_time=_parse_time(r, "due_time", time(10, 0)),
        late_window=timedelta(hours=r.integer("late_hours", 48, 0, 24 * 6)),
        closed_days=_closed_days(r),
        skip_weeks=_skip_weeks(r),
        excused=_excused(r.array("excused"), units),
    )
    r.done()
    return calendar


# Years whose public holidays are computed; a due date outside them is never moved.
HOLIDAY_YEARS = range(2020, 2041)


@functools.cache
def _vietnam_holidays() -> frozenset[date]:
    # A table checked against the `holidays` package by the tests: importing the package at
    # start-up loaded every country's rules (~12 MB, see core/holidays_vn.py).
    from core.holidays_vn import VIETNAM_HOLIDAYS

    return VIETNAM_HOLIDAYS


def _closed_days(r: _Reader) -> frozenset[date]:
    days: set[date] = set()
    if r.boolean("holidays", True):
        days |= _vietnam_holidays()
    extra = r.get("extra_holidays")
    if extra is not None:
        if not isinstance(extra, list) or not all(type(d) is date for d in extra):
            raise ConfigError(r._key("extra_holidays"), "phải là danh sách ngày dạng 2024-12-31")
        days |= set(extra)
    return frozenset(days)


def _skip_weeks(r: _Reader, name: str = "skip_weeks") -> frozenset[str]:
    weeks = set()
    for text in r.strings(name):
        try:
            weeks.add(Period.parse(text).key)
        except ValueError as exc:
            raise ConfigError(r._key(name), f"{text!r} phải là tuần dạng 2025-W05") from exc
    return frozenset(weeks)


def _excused(items: list[_Reader], units: set[str]) -> frozenset[tuple[str, str]]:
    pairs = set()
    for r in items:
        unit = r.code("unit")
        if unit not in units:
            raise ConfigError(r._key("unit"), f"đơn vị {unit!r} không có trong [[units]]")
        for week in _skip_weeks(r, "weeks"):
            pairs.add((week, unit))
        r.done()
    return frozenset(pairs)


def _weekly_times(r: _Reader, name: str, default: tuple[WeeklyTime, ...]) -> tuple[WeeklyTime, ...]:
    if r.get(name) is None:
        return default
    out = []
    for text in r.strings(name):
        day, _, clock = text.lower().partition(" ")
        m = re.fullmatch(r"(\d{1,2})[:h](\d{2})", clock.strip())
        if day not in WEEKDAYS or m is None or int(m[1]) > 23 or int(m[2]) > 59:
            raise ConfigError(r._key(name), f'{text!r} phải có dạng "friday 16:00"')
        out.append(WeeklyTime(WEEKDAYS.index(day), time(int(m[1]), int(m[2]))))
    return tuple(dict.fromkeys(out))


def _schedule(r: _Reader, chats: set[str]) -> Schedule:
    base = Schedule()
    enabled = r.boolean("enabled", True)
    targets = r.strings("chats")
    for chat in targets:
        if chat not in chats:
            raise ConfigError(r._key("chats"), f"nhóm {chat!r} không có trong [chats]")
    early = _weekly_times(r, "early_reminders", base.early)
    last_call = r.integer("last_call_minutes", 60, 0, 24 * 60)
    digest = _weekly_times(r, "digest", base.digest)
    days = r.get("countdown_days")
    if days is None:
        countdown = base.countdown_days
    elif isinstance(days, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 366 for d in days
    ):
        countdown = tuple(sorted(set(days), reverse=True))
    else:
        raise ConfigError(r._key("countdown_days"), "phải là danh sách số nguyên từ 1 đến 366")
    schedule = Schedule(
        enabled=enabled,
        chats=targets,
        early=early,
        last_call=timedelta(minutes=last_call) if last_call else None,
        digest=digest,
        countdown_days=countdown,
        countdown_time=_parse_time(r, "countdown_time", base.countdown_time),
        quiet_start=_parse_time(r, "quiet_start", base.quiet_start),
        quiet_end=_parse_time(r, "quiet_end", base.quiet_end),
        grace=timedelta(minutes=r.integer("grace_minutes", 120, 1, 24 * 60)),
        nudge_interval=timedelta(minutes=r.integer("nudge_interval_minutes", 60, 0, 24 * 60)),
    )
    r.done()
    return schedule


def _platform_ids(r: _Reader) -> dict[str, str]:
    ids = {}
    for platform in ("telegram", "zalo"):
        value = r.ident(platform)
        if value is not None:
            ids[platform] = value
    return ids


def _chats(r: _Reader) -> tuple[Chat, ...]:
    chats = []
    for chat_key in r.data:
        if not _CODE_RE.fullmatch(str(chat_key)):
            raise ConfigError(r._key(str(chat_key)), "tên khóa phải gồm chữ thường a-z, số và _")
        c = r.table(chat_key)
        kind = c.string("kind", default="group")
        if kind not in ("group", "private"):
            raise ConfigError(c._key("kind"), 'phải là "group" hoặc "private"')
        chats.append(Chat(chat_key, c.string("title", default=chat_key), kind, _platform_ids(c)))
        c.done()
    return tuple(chats)


def _people(r: _Reader, units: set[str]) -> tuple[Person, ...]:
    people = []
    seen_ids: dict[tuple[str, str], str] = {}
    for person_key in r.data:
        if not _CODE_RE.fullmatch(str(person_key)):
            raise ConfigError(r._key(str(person_key)), "tên khóa phải gồm chữ thường a-z, số và _")
        p = r.table(person_key)
        role_text = p.string("role", default="officer")
        try:
            role = Role(role_text)
        except ValueError as exc:
            raise ConfigError(p._key("role"), "phải là officer, leader hoặc admin") from exc
        unit = p.optional_string("unit")
        if role is Role.OFFICER and unit is None:
            raise ConfigError(p._key("unit"), "cán bộ (officer) phải gắn với một đơn vị")
        if unit is not None and unit not in units:
            raise ConfigError(p._key("unit"), f"đơn vị {unit!r} không có trong [[units]]")
        ids = _platform_ids(p)
        for platform, ident in ids.items():
            if (owner := seen_ids.setdefault((platform, ident), person_key)) != person_key:
                raise ConfigError(p._key(platform), f"id {ident} đã gán cho {owner!r}")
        people.append(Person(person_key, p.string("name", default=person_key), role, unit, ids))
        p.done()
    return tuple(people)
