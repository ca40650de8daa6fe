"""The set-up file's schema: pydantic models of the parsed TOML, and the Catalogue they build.

Every key is checked (unknown keys are refused) and the first problem becomes one
`ConfigError` naming the key path (`units[3].code`, `people.cb_binh_long.unit`) and what is
wrong, in Vietnamese for the administrator who edits the file. Reading the file is the
caller's job (bot/config_file.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from core import messages as msg
from core.catalogue import (
    WEEKDAYS,
    Catalogue,
    Chat,
    ConfigError,
    FloodLimits,
    Indicator,
    Milestone,
    PaceRules,
    Person,
    RegistrationRules,
    Role,
    Rule,
    Tiers,
    Unit,
    Validation,
)
from core.catalogue import Field as ReportField
from core.matching import strip_unit_type
from core.periods import Calendar, Period
from core.quotas import REMAINING, Quota
from core.rules import RuleSyntaxError, Severity, chain_text
from core.rules import parse as parse_rule
from core.schedule import Schedule, WeeklyTime
from core.text import clean, fold, label_key

_CODE_RE = re.compile(r"[a-z][a-z0-9_]*")
_CLOCK_RE = re.compile(r"(\d{1,2})[:h](\d{2})")
_PROBLEM = "config"  # the error type of every message written here

# --- one message per value ----------------------------------------------------------------


def _fail(problem: str) -> NoReturn:
    raise PydanticCustomError(_PROBLEM, problem)


def _problem(message: str | Callable[[Any], str]) -> WrapValidator:
    """Whatever is wrong inside the value is reported at its key with `message` (unless a
    check inside wrote its own), rather than as pydantic's errors about its parts."""

    def wrap(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == _PROBLEM:
                _fail(first["msg"])
            _fail(message(value) if callable(message) else message)

    return WrapValidator(wrap)


def _check(test: Callable[[Any], bool], message: Callable[[Any], str]) -> AfterValidator:
    def check(value: Any) -> Any:
        if not test(value):
            _fail(message(value))
        return value

    return AfterValidator(check)


def _code(value: str) -> bool:
    return _CODE_RE.fullmatch(value) is not None


def _range(lo: int, hi: int) -> str:
    return f"phải là số nguyên từ {lo} đến {hi}"


_NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_Clean = Annotated[_NonBlank, AfterValidator(clean)]
Text = Annotated[_Clean, _problem(lambda v: f"phải là chuỗi không rỗng, không phải {v!r}")]
Code = Annotated[Text, _check(_code, lambda v: f"{v!r} phải gồm chữ thường a-z, số và _")]
# Keys of [chats] and [people]: the message is about the key itself.
TableKey = Annotated[str, _check(_code, lambda _: "tên khóa phải gồm chữ thường a-z, số và _")]
Texts = Annotated[list[_Clean], _problem("phải là danh sách chuỗi")]
Flag = Annotated[bool, _problem(lambda v: f"phải là true hoặc false, không phải {v!r}")]
Decimals = Annotated[int, Field(ge=0, le=4), _problem(_range(0, 4))]
LateHours = Annotated[int, Field(ge=0, le=24 * 6), _problem(_range(0, 24 * 6))]
Minutes = Annotated[int, Field(ge=0, le=24 * 60), _problem(_range(0, 24 * 60))]
PositiveMinutes = Annotated[int, Field(ge=1, le=24 * 60), _problem(_range(1, 24 * 60))]


def _clock_text(value: Any) -> Any:
    """`"10:00"` or `"10h00"` as a time; anything else is left for the time type to refuse."""
    m = _CLOCK_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    return time(int(m[1]), int(m[2])) if m and int(m[1]) < 24 and int(m[2]) < 60 else value


# A TOML local time (10:00:00) or a string "10:00".
Clock = Annotated[
    time,
    BeforeValidator(_clock_text),
    _problem(lambda v: f'phải là giờ dạng "10:00", không phải {v!r}'),
]
Weekday = Annotated[
    Text,
    _check(lambda d: d.lower() in WEEKDAYS, lambda _: f"phải là một trong {', '.join(WEEKDAYS)}"),
]


def _weekly_time(value: Any) -> WeeklyTime:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("not a string")  # reported as the list's problem
    text = clean(value)
    day, _, clock = text.lower().partition(" ")
    m = _CLOCK_RE.fullmatch(clock.strip())
    if day not in WEEKDAYS or m is None or int(m[1]) > 23 or int(m[2]) > 59:
        _fail(f'{text!r} phải có dạng "friday 16:00"')
    return WeeklyTime(WEEKDAYS.index(day), time(int(m[1]), int(m[2])))


WeeklyTimes = Annotated[
    list[Annotated[WeeklyTime, PlainValidator(_weekly_time)]], _problem("phải là danh sách chuỗi")
]


def _week(text: str) -> str:
    try:
        return Period.parse(text).key
    except ValueError:
        _fail(f"{text!r} phải là tuần dạng 2025-W05")


Weeks = Annotated[
    list[Annotated[_Clean, AfterValidator(_week)]], _problem("phải là danh sách chuỗi")
]


def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# A platform id: a TOML integer or string, kept as text.
PlatformId = Annotated[
    int | str,
    AfterValidator(lambda v: str(v).strip()),
    _check(bool, lambda _: "phải là số hoặc chuỗi (id trên nền tảng)"),
    _problem("phải là số hoặc chuỗi (id trên nền tảng)"),
]
# Absent and empty are the same mistake: at least one field.
FieldRefs = Annotated[Texts, _check(bool, lambda _: "cần ít nhất một trường")]

# --- the tables ---------------------------------------------------------------------------


class _Table(BaseModel):
    # strict: TOML already has types; "48" is not an hour count, true is not a number.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# The level words an `[group] area` may start with, larger areas first.
AREA_LEVELS = (
    "tỉnh",
    "thành phố",
    "huyện",
    "quận",
    "thị xã",
    "xã",
    "phường",
    "thị trấn",
    "đặc khu",
)


def _area_parts(area: str) -> tuple[str, str] | None:
    """`"huyện Bình Sơn"` -> ("huyện", "Bình Sơn"); None when it does not start with a level."""
    for level in AREA_LEVELS:
        head, rest = area[: len(level)], area[len(level) :]
        if fold(head) == fold(level) and rest[:1] == " " and rest.strip():
            return level, rest.strip()
    return None


class GroupSpec(_Table):
    name: Text = "Tổ Công tác Đề án 06"
    province: Text = ""
    district: Text | None = None
    office: Text = "Thường trực Tổ Công tác Đề án 06"
    # The whole area, its level first: texts then say "toàn huyện" instead of "toàn đơn vị".
    area: (
        Annotated[
            Text,
            _check(
                lambda a: _area_parts(a) is not None,
                lambda a: f"{a!r} phải bắt đầu bằng cấp ({', '.join(AREA_LEVELS)}) rồi đến tên",
            ),
        ]
        | None
    ) = None


class UnitSpec(_Table):
    code: Code
    name: Text
    aliases: Texts = []
    district: Text | None = None
    exempt: Flag = False
    province: Text | None = None
    areas: Texts = []  # clusters and other named groupings a chat may be scoped to

    def build(self) -> Unit:
        return Unit(
            self.code,
            self.name,
            tuple(self.aliases),
            self.district,
            self.exempt,
            self.province,
            tuple(self.areas),
        )


class FieldSpec(_Table):
    code: Code
    label: Text
    aliases: Texts = []
    cumulative: Flag = True
    required: Flag = True

    def build(self) -> ReportField:
        aliases = tuple(self.aliases)
        return ReportField(self.code, self.label, aliases, self.cumulative, self.required)


Percent = Annotated[
    Decimal,
    Field(strict=False, gt=0, le=100, allow_inf_nan=False),
    _problem("phải là số phần trăm trong (0, 100]"),
]


class MilestoneSpec(_Table):
    """A dated target: `{ date = 2024-07-31, count = 80000 }` or `{ date = …, rate = 100 }`,
    optionally for one `unit`."""

    on: Annotated[date, _problem("phải là ngày dạng 2024-07-31 (không ngoặc kép)")] = Field(
        alias="date"
    )
    count: Annotated[int, Field(ge=1), _problem("phải là số nguyên dương")] | None = None
    rate: Percent | None = None
    unit: Code | None = None

    @model_validator(mode="after")
    def _one_goal(self) -> MilestoneSpec:
        if (self.count is None) == (self.rate is None):
            _fail("cần đúng một trong count (số lượng) hoặc rate (tỉ lệ %)")
        return self

    def build(self) -> Milestone:
        return Milestone(self.on, self.count, self.rate, self.unit)


class IndicatorSpec(_Table):
    code: Code
    numerator: FieldRefs = Field(default=[], validate_default=True)
    denominator: FieldRefs = Field(default=[], validate_default=True)
    # A number, or text that reads as one (as before); never true or false.
    target: (
        Annotated[
            Decimal,
            Field(strict=False, gt=0, le=100, allow_inf_nan=False),
            _problem("phải là số phần trăm trong (0, 100]"),
        ]
        | None
    ) = None
    # A TOML date: not a string in quotes, not a date and time.
    deadline: Annotated[date, _problem("phải là ngày dạng 2024-12-31 (không ngoặc kép)")] | None = (
        None
    )
    name: Text
    short: Text | None = None
    decimals: Decimals = 2
    columns: Texts = []
    # Two thresholds in percent, ascending: below the first critical, from the last met.
    tiers: (
        Annotated[
            list[Annotated[Decimal, Field(strict=False, gt=0, le=100, allow_inf_nan=False)]],
            _check(
                lambda t: len(t) == 2 and t[0] < t[1],
                lambda _: "phải là 2 ngưỡng phần trăm tăng dần, ví dụ [80, 90]",
            ),
            _problem("phải là 2 ngưỡng phần trăm tăng dần trong (0, 100], ví dụ [80, 90]"),
        ]
        | None
    ) = None
    # How a rate is cut to `decimals`: "half_up" (the letters of seed 000) or "down" (seed 001).
    rounding: Annotated[
        Text,
        _check(lambda r: r in ("half_up", "down"), lambda _: 'phải là "half_up" hoặc "down"'),
    ] = "half_up"
    milestones: list[MilestoneSpec] = []
    counts: Texts = []
    remaining_label: Text = msg.COL_REMAINING

    def build(self, labels: Mapping[str, str]) -> Indicator:
        """`labels`: field code -> label, the headers of the count columns."""
        return Indicator(
            code=self.code,
            name=self.name,
            short=self.short or self.name,
            numerator=tuple(self.numerator),
            denominator=tuple(self.denominator),
            target=self.target,
            deadline=self.deadline,
            decimals=self.decimals,
            columns=tuple(self.columns),
            tiers=Tiers(self.tiers[0], self.tiers[1]) if self.tiers else None,
            truncate=self.rounding == "down",
            milestones=tuple(sorted((m.build() for m in self.milestones), key=lambda m: m.on)),
            counts=tuple((c, labels.get(c, self.remaining_label)) for c in self.counts),
        )


class RuleSpec(_Table):
    # `chain = [a, b, c]` (as before) means `expr = "a <= b <= c"`; exactly one of the two.
    chain: (
        Annotated[Texts, _check(lambda refs: len(refs) >= 2, lambda _: "cần ít nhất 2 trường")]
        | None
    ) = None
    expr: Text | None = None
    severity: Annotated[
        Text,
        _check(lambda s: s in set(Severity), lambda _: 'phải là "error", "confirm" hoặc "warning"'),
    ] = Severity.ERROR
    message: Text | None = None

    @model_validator(mode="after")
    def _one_form(self) -> RuleSpec:
        if (self.chain is None) == (self.expr is None):
            _fail('cần đúng một trong hai khóa: expr = "a + b = c" hoặc chain = ["a", "b"]')
        return self

    def build(self, fields: set[str], where: str) -> Rule:
        if self.chain is not None:
            _known(self.chain, fields, f"{where}.chain")
            text = chain_text(self.chain)
        else:
            assert self.expr is not None  # one of the two, checked above
            text = self.expr
        try:
            comparison = parse_rule(text, fields)
        except RuleSyntaxError as exc:
            raise ConfigError(f"{where}.expr", f"{exc.reason} (“{text}”)") from None
        return Rule(text, comparison, Severity(self.severity), self.message)


class QuotaSpec(_Table):
    """One letter's per-unit numbers for one field, from a date on (core/quotas.py)."""

    field: Code
    start: Annotated[date, _problem("phải là ngày dạng 2024-07-01 (không ngoặc kép)")] = Field(
        alias="from"
    )
    letter: Text = ""
    values: Annotated[
        dict[TableKey, Annotated[int, Field(ge=1)]],
        _problem("phải là bảng mã đơn vị = số nguyên dương, ví dụ { binh_long = 14975 }"),
    ]

    def build(self) -> Quota:
        return Quota(self.field, self.start, self.letter, dict(self.values))


class ExcusedSpec(_Table):
    unit: Code
    weeks: Weeks = []


@functools.cache
def _vietnam_holidays() -> frozenset[date]:
    # A table checked against the `holidays` package by the tests: importing the package at
    # start-up loaded every country's rules (see core/holidays_vn.py).
    from core.holidays_vn import VIETNAM_HOLIDAYS

    return VIETNAM_HOLIDAYS


class CalendarSpec(_Table):
    timezone: (
        Annotated[Text, _check(_zone_exists, lambda v: f"múi giờ {v!r} không tồn tại")] | None
    ) = None  # then the caller's default
    due_weekday: Weekday = "monday"
    due_time: Clock = time(10, 0)
    late_hours: LateHours = 48
    # When a week stops taking reports directly (core/closing.py).
    close: Annotated[
        Text,
        _check(
            lambda v: v in ("late_window", "digest", "never"),
            lambda _: "phải là một trong late_window, digest, never",
        ),
    ] = "late_window"
    holidays: Flag = True
    extra_holidays: Annotated[list[date], _problem("phải là danh sách ngày dạng 2024-12-31")] = []
    skip_weeks: Weeks = []
    excused: list[ExcusedSpec] = []

    def build(self, default_tz: str) -> Calendar:
        name = self.timezone or default_tz
        if not _zone_exists(name):
            raise ConfigError("calendar.timezone", f"múi giờ {name!r} không tồn tại")
        closed = frozenset(self.extra_holidays)
        return Calendar(
            tz=ZoneInfo(name),
            due_weekday=WEEKDAYS.index(self.due_weekday.lower()),
            due_time=self.due_time,
            late_window=timedelta(hours=self.late_hours),
            closed_days=closed | _vietnam_holidays() if self.holidays else closed,
            skip_weeks=frozenset(self.skip_weeks),
            excused=frozenset((week, e.unit) for e in self.excused for week in e.weeks),
            close=self.close,
        )


_BASE = Schedule()


class ScheduleSpec(_Table):
    enabled: Flag = True
    chats: Texts = []
    early_reminders: WeeklyTimes | None = None
    last_call_minutes: Minutes = 60
    digest: WeeklyTimes | None = None
    countdown_days: (
        Annotated[
            list[Annotated[int, Field(ge=1, le=366)]],
            _problem("phải là danh sách số nguyên từ 1 đến 366"),
        ]
        | None
    ) = None
    countdown_time: Clock = _BASE.countdown_time
    quiet_start: Clock = _BASE.quiet_start
    quiet_end: Clock = _BASE.quiet_end
    grace_minutes: PositiveMinutes = 120
    nudge_interval_minutes: Minutes = 60

    def build(self) -> Schedule:
        early, digest, days = self.early_reminders, self.digest, self.countdown_days
        return Schedule(
            enabled=self.enabled,
            chats=tuple(self.chats),
            early=_BASE.early if early is None else tuple(dict.fromkeys(early)),
            last_call=timedelta(minutes=self.last_call_minutes) if self.last_call_minutes else None,
            digest=_BASE.digest if digest is None else tuple(dict.fromkeys(digest)),
            countdown_days=(
                _BASE.countdown_days if days is None else tuple(sorted(set(days), reverse=True))
            ),
            countdown_time=self.countdown_time,
            quiet_start=self.quiet_start,
            quiet_end=self.quiet_end,
            grace=timedelta(minutes=self.grace_minutes),
            nudge_interval=timedelta(minutes=self.nudge_interval_minutes),
        )


_VALIDATION = Validation()


class ValidationSpec(_Table):
    magnitude_high: Annotated[
        Decimal,
        Field(strict=False, gt=1, allow_inf_nan=False),
        _problem("phải là số lớn hơn 1 (mặc định 5)"),
    ] = _VALIDATION.magnitude_high
    magnitude_low: Annotated[
        Decimal,
        Field(strict=False, gt=0, lt=1, allow_inf_nan=False),
        _problem("phải là số trong (0, 1) (mặc định 0.2)"),
    ] = _VALIDATION.magnitude_low
    magnitude_min_change: Annotated[
        int, Field(ge=0), _problem("phải là số nguyên không âm (mặc định 50)")
    ] = _VALIDATION.magnitude_min_change

    def build(self) -> Validation:
        return Validation(self.magnitude_high, self.magnitude_low, self.magnitude_min_change)


_REGISTRATION = RegistrationRules()


class RegistrationSpec(_Table):
    expire_hours: Annotated[
        int, Field(ge=1, le=24 * 90), _problem("phải là số giờ từ 1 đến 2160 (mặc định 72)")
    ] = int(_REGISTRATION.expire_after.total_seconds() // 3600)
    per_sender_per_day: Annotated[
        int, Field(ge=1, le=100), _problem("phải là số nguyên từ 1 đến 100 (mặc định 3)")
    ] = _REGISTRATION.per_sender_per_day
    per_day: Annotated[
        int, Field(ge=1, le=10_000), _problem("phải là số nguyên từ 1 đến 10000 (mặc định 50)")
    ] = _REGISTRATION.per_day

    def build(self) -> RegistrationRules:
        return RegistrationRules(
            timedelta(hours=self.expire_hours), self.per_sender_per_day, self.per_day
        )


_LIMITS = FloodLimits()


class LimitsSpec(_Table):
    per_minute: Annotated[
        int, Field(ge=1, le=1000), _problem("phải là số nguyên từ 1 đến 1000 (mặc định 20)")
    ] = _LIMITS.per_minute
    pause_minutes: Annotated[
        int, Field(ge=1, le=24 * 60), _problem("phải là số phút từ 1 đến 1440 (mặc định 5)")
    ] = int(_LIMITS.pause.total_seconds() // 60)

    def build(self) -> FloodLimits:
        return FloodLimits(self.per_minute, timedelta(minutes=self.pause_minutes))


class PaceSpec(_Table):
    days: Annotated[
        Text,
        _check(
            lambda d: d in ("calendar", "working"), lambda _: 'phải là "calendar" hoặc "working"'
        ),
    ] = "calendar"
    rounding: Annotated[
        Text, _check(lambda r: r in ("up", "nearest"), lambda _: 'phải là "up" hoặc "nearest"')
    ] = "up"

    def build(self) -> PaceRules:
        return PaceRules(working_days=self.days == "working", round_up=self.rounding == "up")


class _Member(_Table):
    telegram: PlatformId | None = None
    zalo: PlatformId | None = None

    @property
    def ids(self) -> dict[str, str]:
        found = {"telegram": self.telegram, "zalo": self.zalo}
        return {platform: str(ident) for platform, ident in found.items() if ident is not None}


class ChatSpec(_Member):
    kind: Annotated[
        Text,
        _check(lambda k: k in ("group", "private"), lambda _: 'phải là "group" hoặc "private"'),
    ] = "group"
    title: Text | None = None
    # A Telegram forum supergroup's topic (message_thread_id) for scheduled posts.
    telegram_topic: (
        Annotated[
            int, Field(ge=1), _problem("phải là số nguyên dương (message_thread_id của chủ đề)")
        ]
        | None
    ) = None

    # Its scope: the units of these named areas (a unit's province, district or `areas`) and
    # these unit codes; neither: every unit.
    areas: Texts = []
    units: Texts = []
    digest: Annotated[
        Text,
        _check(lambda d: d in ("full", "summary"), lambda _: 'phải là "full" hoặc "summary"'),
    ] = "full"
    summary_by: Annotated[
        Text,
        _check(
            lambda d: d in ("province", "district"), lambda _: 'phải là "province" hoặc "district"'
        ),
    ] = "province"
    top: Annotated[int, Field(ge=1, le=20), _problem(_range(1, 20))] = 5

    @property
    def topics(self) -> dict[str, str]:
        return {} if self.telegram_topic is None else {"telegram": str(self.telegram_topic)}

    def scope(self, areas: Mapping[str, set[str]], where: str) -> frozenset[str] | None:
        """The unit codes it covers (None: no scope); an unknown area or code is refused.
        `areas`: `area_index` of the units."""
        if not self.areas and not self.units:
            return None
        codes: set[str] = set()
        for area in self.areas:
            found = areas.get(fold(area))
            if not found:
                problem = f"địa bàn {area!r} không có đơn vị nào (province, district, areas)"
                raise ConfigError(f"{where}.areas", problem)
            codes |= found
        known = areas[_UNITS]
        for code in self.units:
            if code not in known:
                raise ConfigError(f"{where}.units", f"đơn vị {code!r} không có trong [[units]]")
            codes.add(code)
        return frozenset(codes)

    def build(self, key: str, units: Sequence[UnitSpec], areas: Mapping[str, set[str]]) -> Chat:
        names = {u.code: u.name for u in units if u.code in self.units}
        scope_name = ", ".join([*self.areas, *(names[c] for c in self.units if c in names)])
        return Chat(
            key,
            self.title or key,
            self.kind,
            self.ids,
            self.topics,
            self.scope(areas, f"chats.{key}"),
            scope_name,
            self.digest,
            self.summary_by,
            self.top,
        )


# `area_index`'s key for the set of every unit code (folded area names are never empty).
_UNITS = ""


def area_index(units: Sequence[UnitSpec]) -> dict[str, set[str]]:
    """Each area a unit names (its province, district and `areas`), folded, -> the codes of
    its units; and "" -> every unit code. Built once, not once per chat: a national set-up
    has thousands of units and dozens of scoped chats."""
    index: dict[str, set[str]] = {_UNITS: {u.code for u in units}}
    for u in units:
        for area in (u.province, u.district, *u.areas):
            if area:
                index.setdefault(fold(area), set()).add(u.code)
    return index


class PersonSpec(_Member):
    role: Annotated[
        Text, _check(lambda r: r in set(Role), lambda _: "phải là officer, leader hoặc admin")
    ] = Role.OFFICER
    unit: Text | None = None
    name: Text | None = None


class ConfigFile(_Table):
    """The whole file; relations between its tables are checked once each table is valid."""

    group: GroupSpec = GroupSpec()
    units: Annotated[list[UnitSpec], Field(min_length=1)]
    fields: Annotated[list[FieldSpec], Field(min_length=1)]
    indicators: Annotated[list[IndicatorSpec], Field(min_length=1)]
    rules: list[RuleSpec] = []
    calendar: CalendarSpec = CalendarSpec()
    chats: dict[TableKey, ChatSpec] = {}
    people: dict[TableKey, PersonSpec] = {}
    schedule: ScheduleSpec = ScheduleSpec()
    validation: ValidationSpec = ValidationSpec()
    registration: RegistrationSpec = RegistrationSpec()
    limits: LimitsSpec = LimitsSpec()
    quotas: list[QuotaSpec] = []
    pace: PaceSpec = PaceSpec()

    @model_validator(mode="after")
    def _relations(self) -> ConfigFile:
        _check_units(self.units)
        field_codes = _check_fields(self.fields)
        _check_quotas(self.quotas, self.fields, {u.code for u in self.units})
        _check_indicators(self.indicators, field_codes)
        self._build_rules(field_codes)  # an unreadable rule is refused here, in file order
        for n, ind in enumerate(self.indicators):
            for count in ind.counts:
                if count != REMAINING and count not in field_codes:
                    problem = f"{count!r} không phải trường trong [[fields]] (hoặc {REMAINING!r})"
                    raise ConfigError(f"indicators[{n}].counts", problem)
        unit_codes = {u.code for u in self.units}
        _check_milestones(self.indicators, unit_codes)
        for n, excused in enumerate(self.calendar.excused):
            if excused.unit not in unit_codes:
                where = f"calendar.excused[{n}].unit"
                raise ConfigError(where, f"đơn vị {excused.unit!r} không có trong [[units]]")
        _check_people(self.people, unit_codes)
        for chat in self.schedule.chats:
            if chat not in self.chats:
                raise ConfigError("schedule.chats", f"nhóm {chat!r} không có trong [chats]")
        areas = area_index(self.units) if self.chats else {}
        for key, spec in self.chats.items():
            spec.scope(areas, f"chats.{key}")
        return self

    def _build_rules(self, fields: set[str]) -> tuple[Rule, ...]:
        return tuple(r.build(fields, f"rules[{n}]") for n, r in enumerate(self.rules))

    def build(self, default_tz: str) -> Catalogue:
        area = _area_parts(self.group.area) if self.group.area else None
        areas = area_index(self.units) if self.chats else {}
        return Catalogue(
            title=self.group.name,
            province=self.group.province,
            district=self.group.district,
            office=self.group.office,
            units=tuple(u.build() for u in self.units),
            fields=tuple(f.build() for f in self.fields),
            indicators=tuple(
                i.build({f.code: f.label for f in self.fields}) for i in self.indicators
            ),
            rules=self._build_rules({f.code for f in self.fields}),
            calendar=self.calendar.build(default_tz),
            chats=tuple(c.build(k, self.units, areas) for k, c in self.chats.items()),
            people=tuple(
                Person(k, p.name or k, Role(p.role), p.unit, p.ids) for k, p in self.people.items()
            ),
            schedule=self.schedule.build(),
            validation=self.validation.build(),
            registration=self.registration.build(),
            limits=self.limits.build(),
            area_level=area[0] if area else None,
            area_name=area[1] if area else None,
            warnings=_area_warnings(self.units, self.group.area, area),
            quotas=tuple(q.build() for q in self.quotas),
            pace=self.pace.build(),
        )


def _duplicate_code(items: Sequence[UnitSpec | FieldSpec | IndicatorSpec], path: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.code in seen:
            raise ConfigError(f"{path}[{i}].code", f"mã {item.code!r} bị trùng")
        seen.add(item.code)


def _check_units(units: Sequence[UnitSpec]) -> None:
    _duplicate_code(units, "units")
    # Two units must never answer to the same written name, or reports could be misfiled.
    owners: dict[str, str] = {}
    for i, unit in enumerate(units):
        for name in (unit.name, *unit.aliases):
            k = fold(strip_unit_type(name))
            if owners.setdefault(k, unit.code) != unit.code:
                raise ConfigError(f"units[{i}]", f"tên {name!r} trùng với đơn vị {owners[k]!r}")


def _area_warnings(
    units: Sequence[UnitSpec], area: str | None, parts: tuple[str, str] | None
) -> tuple[str, ...]:
    """A unit answering to the area's own name ("Xã Bình Sơn" in "huyện Bình Sơn"): allowed
    (communes take their old district's name), but "Bình Sơn" then reads two ways."""
    if parts is None:
        return ()
    out = []
    for i, unit in enumerate(units):
        for name in (unit.name, *unit.aliases):
            if fold(strip_unit_type(name)) == fold(parts[1]):
                out.append(
                    f"units[{i}]: tên {name!r} trùng với tên địa bàn {area!r}; "
                    f"“{parts[1]}” có thể là đơn vị này hoặc toàn {parts[0]}"
                )
                break
    return tuple(out)


def _check_fields(fields: Sequence[FieldSpec]) -> set[str]:
    owners: dict[str, str] = {}
    for i, f in enumerate(fields):
        for text in (f.label, f.code, *f.aliases):
            k = label_key(text)
            if owners.setdefault(k, f.code) != f.code:
                raise ConfigError(f"fields[{i}]", f"nhãn {text!r} trùng với trường {owners[k]!r}")
    _duplicate_code(fields, "fields")
    return {f.code for f in fields}


def _known(refs: Sequence[str], fields: set[str], where: str) -> None:
    for ref in refs:
        if ref not in fields:
            raise ConfigError(where, f"trường {ref!r} không có trong [[fields]]")


def _check_indicators(indicators: Sequence[IndicatorSpec], fields: set[str]) -> None:
    for n, ind in enumerate(indicators):
        _known(ind.numerator, fields, f"indicators[{n}].numerator")
        _known(ind.denominator, fields, f"indicators[{n}].denominator")
    _duplicate_code(indicators, "indicators")
    codes = {i.code for i in indicators}
    for n, ind in enumerate(indicators):
        for col in ind.columns:
            if col not in codes or col == ind.code:
                raise ConfigError(f"indicators[{n}].columns", f"{col!r} không phải chỉ tiêu khác")


def _check_quotas(
    quotas: Sequence[QuotaSpec], fields: Sequence[FieldSpec], units: set[str]
) -> None:
    required = {f.code for f in fields if f.required}
    known = {f.code for f in fields}
    dates: set[tuple[str, date]] = set()
    for n, q in enumerate(quotas):
        where = f"quotas[{n}]"
        if q.field not in known:
            raise ConfigError(f"{where}.field", f"trường {q.field!r} không có trong [[fields]]")
        if q.field in required:
            given = f"trường {q.field!r} do công văn giao, cán bộ không nhập"
            raise ConfigError(f"{where}.field", f"{given}: đặt required = false")
        if (q.field, q.start) in dates:
            raise ConfigError(f"{where}.from", f"đã có chỉ tiêu trường {q.field!r} từ ngày này")
        dates.add((q.field, q.start))
        for unit in q.values:
            if unit not in units:
                raise ConfigError(f"{where}.values", f"đơn vị {unit!r} không có trong [[units]]")


def _check_milestones(indicators: Sequence[IndicatorSpec], units: set[str]) -> None:
    for n, ind in enumerate(indicators):
        seen: set[tuple[date, str | None]] = set()
        for k, m in enumerate(ind.milestones):
            where = f"indicators[{n}].milestones[{k}]"
            if m.unit is not None and m.unit not in units:
                raise ConfigError(f"{where}.unit", f"đơn vị {m.unit!r} không có trong [[units]]")
            if (m.on, m.unit) in seen:
                raise ConfigError(f"{where}.date", "đã có mốc ngày này")
            seen.add((m.on, m.unit))


def _check_people(people: Mapping[str, PersonSpec], units: set[str]) -> None:
    seen_ids: dict[tuple[str, str], str] = {}
    for person_key, p in people.items():
        where = f"people.{person_key}"
        if p.role == Role.OFFICER and p.unit is None:
            raise ConfigError(f"{where}.unit", "cán bộ (officer) phải gắn với một đơn vị")
        if p.unit is not None and p.unit not in units:
            raise ConfigError(f"{where}.unit", f"đơn vị {p.unit!r} không có trong [[units]]")
        for platform, ident in p.ids.items():
            if (owner := seen_ids.setdefault((platform, ident), person_key)) != person_key:
                raise ConfigError(f"{where}.{platform}", f"id {ident} đã gán cho {owner!r}")


# --- pydantic's errors as one line --------------------------------------------------------

_MESSAGES = {
    "extra_forbidden": "khóa không được hỗ trợ (unknown key)",
    "missing": "thiếu (missing)",
    "model_type": "phải là một bảng (table)",
    "dict_type": "phải là một bảng (table)",
    "list_type": "phải là một mảng bảng [[...]] không rỗng",
    "too_short": "phải là một mảng bảng [[...]] không rỗng",
}
# The arrays of tables a set-up cannot do without (the others may be left out).
_REQUIRED_ARRAYS = ("units", "fields", "indicators")


def _key_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":  # a dict key's own error: the key is the previous part
            path += f".{part}" if path else part
    return path or "(gốc)"


def config_error(error: ErrorDetails) -> ConfigError:
    """One pydantic error as a ConfigError naming the key path and the problem."""
    found = (error.get("ctx") or {}).get("error")
    if isinstance(found, ConfigError):  # from a check of relations between tables
        return found
    path = _key_path(error["loc"])
    if error["type"] == _PROBLEM:
        return ConfigError(path, error["msg"])
    if error["type"] == "missing" and path in _REQUIRED_ARRAYS:
        return ConfigError(path, "thiếu (missing); cần ít nhất một mục")
    return ConfigError(path, _MESSAGES.get(error["type"], error["msg"]))


def build_catalogue(data: Mapping[str, Any], default_tz: str = "Asia/Ho_Chi_Minh") -> Catalogue:
    """Check the parsed TOML and build the catalogue; raises ConfigError on the first problem."""
    try:
        spec = ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc.errors()[0]) from None
    return spec.build(default_tz)
