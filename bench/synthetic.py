"""Synthetic national data for benchmarks: a hierarchy of communes and plausible weekly series.

Pure and deterministic for a seed: the same arguments give the same units, names and figures.
`bench/synth.py` writes them out (a TOML set-up and reports through the storage layer).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from core.catalogue import Catalogue, Unit
from core.periods import Period
from core.rules import Severity
from core.text import key

PROVINCES = 34
# Syllables of Vietnamese place names; names are two syllables, a third when two collide.
_FIRST = [
    "An",
    "Bình",
    "Cẩm",
    "Châu",
    "Đại",
    "Đông",
    "Đức",
    "Gia",
    "Hòa",
    "Hải",
    "Hiệp",
    "Hưng",
    "Hương",
    "Kim",
    "Lạc",
    "Long",
    "Minh",
    "Mỹ",
    "Nam",
    "Nghĩa",
    "Ngọc",
    "Nhơn",
    "Phú",
    "Phước",
    "Phong",
    "Quang",
    "Quế",
    "Sơn",
    "Tân",
    "Tam",
    "Thạch",
    "Thanh",
    "Thạnh",
    "Thái",
    "Thiện",
    "Thọ",
    "Thuận",
    "Tiên",
    "Trà",
    "Trung",
    "Tịnh",
    "Vĩnh",
    "Văn",
    "Xuân",
    "Yên",
    "Hoài",
    "Cát",
    "Lộc",
    "Mai",
]
_SECOND = [
    "An",
    "Bình",
    "Châu",
    "Chánh",
    "Định",
    "Đông",
    "Đức",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiệp",
    "Hòa",
    "Hội",
    "Hưng",
    "Khánh",
    "Lâm",
    "Lợi",
    "Long",
    "Lộc",
    "Mỹ",
    "Nam",
    "Nghĩa",
    "Ninh",
    "Phát",
    "Phong",
    "Phú",
    "Phúc",
    "Phước",
    "Quang",
    "Sơn",
    "Tân",
    "Tây",
    "Thạnh",
    "Thành",
    "Thịnh",
    "Thọ",
    "Thuận",
    "Tiến",
    "Tín",
    "Trung",
    "Trường",
    "Tú",
    "Vinh",
    "Xuân",
    "Hậu",
    "Thượng",
    "Hạ",
    "Điền",
    "Lương",
    "Khê",
]
_PROVINCE_NAMES = [
    "Hà Nội",
    "Huế",
    "Hải Phòng",
    "Đà Nẵng",
    "Hồ Chí Minh",
    "Cần Thơ",
    "Lai Châu",
    "Điện Biên",
    "Sơn La",
    "Lạng Sơn",
    "Quảng Ninh",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Cao Bằng",
    "Tuyên Quang",
    "Lào Cai",
    "Thái Nguyên",
    "Phú Thọ",
    "Bắc Ninh",
    "Hưng Yên",
    "Ninh Bình",
    "Quảng Trị",
    "Quảng Ngãi",
    "Gia Lai",
    "Khánh Hòa",
    "Lâm Đồng",
    "Đắk Lắk",
    "Đồng Nai",
    "Tây Ninh",
    "Vĩnh Long",
    "Đồng Tháp",
    "Cà Mau",
    "An Giang",
]
# Roughly how communes are typed nationally: mostly xã, a share of phường, few thị trấn.
_TYPES = (("Xã", 70), ("Phường", 25), ("Thị trấn", 5))


@dataclass(frozen=True)
class SynthUnit:
    code: str
    name: str
    province: str
    district: str


def hierarchy(count: int, seed: int = 0, provinces: int = PROVINCES) -> list[SynthUnit]:
    """`count` communes spread over provinces and their districts, with unique names and codes
    (unique even without the type and diacritics, so matching a name is never ambiguous)."""
    rng = random.Random(f"hierarchy:{seed}")
    n_prov = max(1, min(provinces, count))
    prov_names = list(_PROVINCE_NAMES[:n_prov])
    # Uneven provinces: weights between 0.5 and 1.5, every province at least one commune.
    weights = [0.5 + rng.random() for _ in prov_names]
    per_prov = [1] * n_prov
    for _ in range(count - n_prov):
        per_prov[rng.choices(range(n_prov), weights)[0]] += 1
    pairs = [(a, b) for a in _FIRST for b in _SECOND if a != b]
    rng.shuffle(pairs)
    taken: set[str] = set()
    codes: set[str] = set()
    units: list[SynthUnit] = []
    type_names = [t for t, _ in _TYPES]
    type_weights = [w for _, w in _TYPES]
    for province, n in zip(prov_names, per_prov, strict=True):
        districts = max(1, round(n / 15))
        for i in range(n):
            bare = _fresh_name(rng, pairs, taken)
            kind = rng.choices(type_names, type_weights)[0]
            code = _fresh_code(key(bare).replace(" ", "_"), codes)
            district = f"Khu vực {i % districts + 1}"
            units.append(SynthUnit(code, f"{kind} {bare}", province, f"{district}, {province}"))
    return units


def _fresh_name(rng: random.Random, pairs: list[tuple[str, str]], taken: set[str]) -> str:
    while True:
        first, second = pairs.pop() if pairs else (rng.choice(_FIRST), rng.choice(_SECOND))
        name = f"{first} {second}"
        if key(name) in taken:
            name = f"{name} {rng.choice(_SECOND)}"
        if key(name) not in taken:
            taken.add(key(name))
            return name


def _fresh_code(base: str, codes: set[str]) -> str:
    code, n = base, 1
    while code in codes:
        n += 1
        code = f"{base}_{n}"
    codes.add(code)
    return code


def config_data(
    base: Mapping[str, Any], units: Sequence[SynthUnit], title: str = "Toàn quốc (dữ liệu giả)"
) -> dict[str, Any]:
    """A set-up with the base's fields, indicators, `error` rules (`error_rules`) and calendar,
    the given units, one report group, an admin, a leader and one officer per unit (key
    `cb_<unit code>`)."""
    people: dict[str, Any] = {
        "thuong_truc": {"name": "Thường trực (dữ liệu giả)", "role": "admin"},
        "lanh_dao": {"name": "Lãnh đạo (dữ liệu giả)", "role": "leader"},
    }
    for u in units:
        people[officer_key(u.code)] = {"name": f"Cán bộ {u.name}", "unit": u.code}
    data: dict[str, Any] = {
        "group": {"name": f"Tổ Công tác Đề án 06 — {title}", "province": title},
        "units": [
            {"code": u.code, "name": u.name, "district": u.district, "province": u.province}
            for u in units
        ],
        "chats": {"nhom_bao_cao": {"title": f"NHÓM BÁO CÁO ĐỀ ÁN 06 — {title}"}},
        "people": people,
    }
    for section in ("calendar", "fields", "indicators"):
        if section in base:
            data[section] = base[section]
    rules = error_rules(base)
    if rules:
        data["rules"] = rules
    return data


def error_rules(base: Mapping[str, Any]) -> list[Any]:
    """The base file's `error` rules (a `chain` is one): `confirm` and `warning` rules bound
    real communes' shares (children against ID cards), which the independent random sizes of
    a synthetic unit do not follow, so a set-up for synthetic reports leaves them out."""
    return [r for r in base.get("rules", []) if r.get("severity", "error") == "error"]


def officer_key(unit_code: str) -> str:
    return f"cb_{unit_code}"


# --- weekly series ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthReport:
    """One unit's report for one period, as its officer sends it."""

    unit: str
    period: Period
    values: dict[str, int]
    sent_at: datetime
    late: bool


@dataclass
class _Track:
    """One ratio that rises over the weeks: numerator = floor(denominator × share)."""

    share: float
    slope: float


def series(
    catalogue: Catalogue, weeks: int, last: Period, seed: int = 0
) -> list[list[SynthReport]]:
    """Reports for `weeks` periods ending with `last`, one list per period, oldest first.

    Every field of an indicator is cumulative and never falls; numerators stay at most their
    denominators and every `[[rules]]` chain holds. Most units reach their targets, some do
    not; a few units are often late or miss weeks.
    """
    rng = random.Random(f"series:{seed}")
    periods = [last.shift(-n) for n in range(weeks - 1, -1, -1)]
    out: list[list[SynthReport]] = [[] for _ in periods]
    for unit in catalogue.units:
        for w, values, sent_at, late in _unit_series(rng, catalogue, unit, periods):
            out[w].append(SynthReport(unit.code, periods[w], values, sent_at, late))
    return out


def _unit_series(
    rng: random.Random, catalogue: Catalogue, unit: Unit, periods: Sequence[Period]
) -> list[tuple[int, dict[str, int], datetime, bool]]:
    fields = {f.code for f in catalogue.fields}
    optional = {f.code for f in catalogue.fields if not f.required}
    # Units that collect an optional indicator's figures do so every week (all-or-nothing).
    given: set[str] = set()
    for ind in catalogue.indicators:
        if set(ind.fields) <= fields and (not set(ind.fields) & optional or rng.random() < 0.85):
            given |= set(ind.fields)
    # An indicator's fields come all together or not at all: drop partial ones until stable.
    changed = True
    while changed:
        changed = False
        # Error rules too (a chain's fields come together); a `confirm` or `warning` rule is
        # only checked when every field it names is given, so it groups nothing.
        for group in [set(i.fields) for i in catalogue.indicators] + [
            set(r.fields) for r in catalogue.rules if r.severity is Severity.ERROR
        ]:
            if group & given and not group <= given:
                given -= group
                changed = True
    people = rng.randint(3_000, 30_000)
    # In field order, never set order: string hashes change between processes.
    bases = {f.code: _base_size(rng, f.code, people) for f in catalogue.fields if f.code in given}
    # One rising share per (numerator, denominator) pair, chained so that rules hold.
    tracks = _tracks(rng, catalogue, given)
    habit_late = 0.3 if rng.random() < 0.05 else 0.05
    habit_missing = 0.25 if rng.random() < 0.04 else 0.02
    pace = rng.uniform(0.6, 1.6)
    out = []
    totals = dict(bases)
    state = {k: _Track(t.share, t.slope * pace) for k, t in tracks.items()}
    for w, period in enumerate(periods):
        # Denominators grow slowly (new citizens, new children), never fall.
        for code in totals:
            if code not in tracks and rng.random() < 0.3:
                totals[code] += rng.randint(0, max(1, totals[code] // 500))
        for t in state.values():
            t.share = min(1.0, t.share + max(0.0, t.slope * rng.uniform(0.2, 1.8)))
        if rng.random() < habit_missing:
            continue
        values = _values(catalogue, totals, state)
        late = rng.random() < habit_late
        out.append((w, values, _sent_at(rng, catalogue, period, late), late))
    return out


def _base_size(rng: random.Random, code: str, people: int) -> int:
    # Different fields are different populations; what matters is a plausible size.
    return max(20, int(people * rng.uniform(0.02, 0.9)))


def _tracks(rng: random.Random, catalogue: Catalogue, given: set[str]) -> dict[str, _Track]:
    """A share for every numerator field that is the single numerator of an indicator."""
    tracks: dict[str, _Track] = {}
    for ind in catalogue.indicators:
        if not set(ind.fields) <= given:
            continue
        for num in ind.numerator:
            if num in tracks:
                continue
            start = rng.uniform(0.2, 0.8)
            # Weeks to reach the top: mostly within a year, some never.
            tracks[num] = _Track(start, (1.0 - start) / rng.uniform(30, 90))
    return tracks


def _values(
    catalogue: Catalogue, totals: dict[str, int], state: dict[str, _Track]
) -> dict[str, int]:
    """Numerators from their denominators, walking dependencies (a chain a <= b <= c makes
    b a numerator of c and a denominator of a)."""
    values: dict[str, int] = {}
    parent: dict[str, str] = {}
    for ind in catalogue.indicators:
        if len(ind.numerator) == len(ind.denominator):
            for num, den in zip(ind.numerator, ind.denominator, strict=True):
                if num in state:
                    parent.setdefault(num, den)

    def value(code: str, depth: int = 0) -> int:
        if code in values:
            return values[code]
        if code in state and code in parent and depth < 10:
            base = value(parent[code], depth + 1)
            v = int(base * state[code].share)
        else:
            v = totals[code]
        values[code] = v
        return v

    for f in catalogue.fields:
        if f.code in totals:
            value(f.code)
    return values


def _sent_at(rng: random.Random, catalogue: Catalogue, period: Period, late: bool) -> datetime:
    cal = catalogue.calendar
    due = cal.due_at(period)
    window = int(cal.late_window.total_seconds() // 60)
    if late and window > 1:
        return due + timedelta(minutes=rng.randint(1, window - 1))
    # On time: after the previous period's late window closed, at most three days early.
    earliest = cal.due_at(period.previous()) + cal.late_window + timedelta(minutes=1)
    span = min(3 * 24 * 60, int((due - earliest).total_seconds() // 60) - 5)
    return due - timedelta(minutes=rng.randint(5, max(5, span)))


# --- writing the set-up as TOML ----------------------------------------------------------------


def toml_text(data: Mapping[str, Any], header: str = "") -> str:
    """TOML for the shapes a set-up has: tables of scalars, arrays of tables, tables of tables."""
    lines = [f"# {line}" for line in header.splitlines()]
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping | list)}
    lines += [f"{k} = {_toml_value(v)}" for k, v in scalars.items()]
    for name, value in data.items():
        if isinstance(value, list):
            for item in value:
                lines += ["", f"[[{name}]]", *_toml_pairs(item)]
        elif isinstance(value, Mapping):
            if all(isinstance(v, Mapping) for v in value.values()) and value:
                for sub, table in value.items():
                    lines += ["", f"[{name}.{sub}]", *_toml_pairs(table)]
            else:
                lines += ["", f"[{name}]", *_toml_pairs(value)]
    return "\n".join(lines).lstrip("\n") + "\n"


def _toml_pairs(table: Mapping[str, Any]) -> list[str]:
    return [f"{k} = {_toml_value(v)}" for k, v in table.items()]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date | time):
        return value.isoformat()  # datetime is a date too: a TOML local or offset date-time
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")
