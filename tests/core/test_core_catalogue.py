"""core.catalogue.build_catalogue (schema in core.config_schema): the real config builds;
every bad one names its key."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import tomllib
from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.catalogue import (
    Catalogue,
    ConfigError,
    FloodLimits,
    RegistrationRules,
    Role,
    Tiers,
    Validation,
    build_catalogue,
)
from core.holidays_vn import VIETNAM_HOLIDAYS
from core.rules import Severity, chain_text
from core.schedule import Schedule

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
RAW: dict[str, Any] = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
# config/binh_son.toml as it was before issue 16 (tiers, area words): a config written for the
# first schema, which must keep loading unchanged.
SCHEMA1 = Path(__file__).resolve().parents[1] / "data" / "binh_son_2024_schema1.toml"


def fresh() -> dict[str, Any]:
    return copy.deepcopy(RAW)


# --- the real config ------------------------------------------------------------------------


def test_real_config_builds() -> None:
    cat = build_catalogue(fresh())
    assert len(cat.units) == 22
    assert len({u.code for u in cat.units}) == 22
    assert cat.unit("chau_o").aliases == ("Châu Ô", "TT Châu Ổ")
    assert cat.district == "Bình Sơn"
    assert cat.province == "Quảng Ngãi"
    assert cat.calendar.due_weekday == 0
    assert cat.calendar.due_time == time(10, 0)
    assert cat.calendar.late_window == timedelta(hours=48)
    assert str(cat.calendar.tz) == "Asia/Ho_Chi_Minh"
    eid = cat.indicator("eid_verified")
    assert eid.target == Decimal(80)
    assert eid.deadline == date(2024, 12, 31)
    assert eid.numerator == ("eid_verified",)
    assert eid.denominator == ("citizen_id_issued",)
    assert eid.columns == ("eid_activated",)
    assert cat.indicator("id_card_6_14").decimals == 1
    assert cat.rules[0].text == "eid_activated <= eid_verified <= citizen_id_issued"
    assert cat.rules[0].fields == ("eid_activated", "eid_verified", "citizen_id_issued")
    assert not cat.field("child_u6_total").required
    assert cat.field("citizen_id_issued").required


def _canonical(x: Any) -> Any:
    """A JSON-able form of the catalogue that does not depend on set order."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _canonical(getattr(x, f.name)) for f in dataclasses.fields(x) if f.init}
    if isinstance(x, frozenset | set):
        return sorted((_canonical(i) for i in x), key=repr)
    if isinstance(x, tuple | list):
        return [_canonical(i) for i in x]
    if isinstance(x, dict):
        return {str(k): _canonical(v) for k, v in sorted(x.items())}
    if isinstance(x, str | int | bool) or x is None:
        return x
    return repr(x)  # Decimal('40'), datetime.date(…), time, timedelta, zoneinfo


def _fingerprint(cat: Catalogue) -> str:
    described = _canonical(cat)
    del described["calendar"]["closed_days"]  # the holiday table, checked on its own
    del described["calendar"]["close"]  # added later, with a default: checked on its own
    del described["validation"]  # added later, with defaults: checked on its own
    del described["registration"]  # likewise
    del described["limits"]  # likewise
    del described["quotas"]  # likewise (empty unless configured)
    del described["pace"]  # likewise
    for indicator in described["indicators"]:
        del indicator["milestones"]  # likewise
        del indicator["counts"]  # likewise
    for chat in described["chats"]:
        del chat["topics"]  # likewise (empty unless configured)
        for key in ("scope", "scope_name", "digest", "summary_by", "top"):  # issue 17: likewise
            del chat[key]
    for unit in described["units"]:
        del unit["province"], unit["areas"]  # issue 17: likewise
    del described["scope_name"]  # issue 17: a chat's view only
    # Rules became expressions with severities: the `chain` rules keep their old form here,
    # the expression rules added since are checked on their own (tests/core/test_core_rules.py).
    described["rules"] = [
        {"chain": list(r.fields)}
        for r in cat.rules
        if r.text == chain_text(r.fields) and r.severity is Severity.ERROR
    ]
    for key in ("area_level", "area_name", "warnings"):  # issue 16: checked on their own
        del described[key]
    for ind in described["indicators"]:
        del ind["tiers"], ind["truncate"]  # likewise
    text = json.dumps(described, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_first_schema_config_builds_the_same_catalogue_as_the_hand_written_validator() -> None:
    # The fingerprint of what the hand-written validator built from config/binh_son.toml
    # before the pydantic schema replaced it (that file is now tests/data's schema-1 copy);
    # any change in what the file means changes it.
    cat = build_catalogue(tomllib.loads(SCHEMA1.read_text(encoding="utf-8")))
    assert _fingerprint(cat) == "32915a3736382373204789ea3c116cfabfb4e43c031f5ddebceb9d9034fdc63c"
    assert cat.calendar.closed_days == VIETNAM_HOLIDAYS
    assert cat.schedule == Schedule()
    assert cat.validation == Validation()
    assert cat.registration == RegistrationRules()
    assert cat.limits == FloodLimits()
    assert all(c.topics == {} for c in cat.chats)
    assert all(c.scope is None and not c.summary for c in cat.chats)
    assert all(u.province is None and u.areas == () for u in cat.units)
    assert cat.scope_name is None
    assert cat.title == "Tổ Công tác Đề án 06 huyện Bình Sơn"
    assert cat.indicator("non_cash").target == Decimal(40)
    assert {p.key: p.ids for p in cat.people}["cb_binh_long"] == {}
    # Nothing of issue 16 unless asked for: no tiers, no area, nothing to warn about.
    assert all(i.tiers is None and not i.truncate for i in cat.indicators)
    assert (cat.area_level, cat.area_name, cat.warnings) == (None, None, ())
    assert cat.scope == "toàn đơn vị"


def test_real_config_is_the_first_schema_config_plus_issue_16_keys() -> None:
    old = build_catalogue(tomllib.loads(SCHEMA1.read_text(encoding="utf-8")))
    cat = build_catalogue(fresh())
    assert (cat.area_level, cat.area_name, cat.scope) == ("huyện", "Bình Sơn", "toàn huyện")
    assert cat.warnings == ()
    tiered = {i.code: i.tiers for i in cat.indicators if i.tiers is not None}
    assert tiered == {"eid_activated": Tiers(Decimal(80), Decimal(90))}
    # The first schema's chain rule comes first; the expression rules were added after it.
    assert cat.rules[: len(old.rules)] == old.rules
    assert [r.severity for r in cat.rules[len(old.rules) :]] == [
        Severity.CONFIRM,
        Severity.WARNING,
    ]
    counted = {i.code: i.counts for i in cat.indicators if i.counts}
    assert counted == {
        "id_card_u6": (("remaining", "Chưa cấp"),),
        "id_card_6_14": (("remaining", "Chưa cấp"),),
    }
    plain = tuple(dataclasses.replace(i, tiers=None, counts=()) for i in cat.indicators)
    assert (
        dataclasses.replace(cat, indicators=plain, area_level=None, area_name=None, rules=old.rules)
        == old
    )


def test_real_config_people_and_chats() -> None:
    cat = build_catalogue(fresh())
    assert cat.chat_by_key("nhom_bao_cao") is not None
    roles = {p.key: p.role for p in cat.people}
    assert roles["thuong_truc"] is Role.ADMIN
    assert roles["lanh_dao"] is Role.LEADER
    assert [p.key for p in cat.officers_of("binh_long")] == ["cb_binh_long"]


def test_ranked_indicators_are_those_with_a_target() -> None:
    cat = build_catalogue(fresh())
    ranked = {i.code for i in cat.ranked_indicators}
    assert "non_cash_btxh" not in ranked
    assert {"non_cash", "eid_verified", "eid_activated"} <= ranked


def test_platform_ids_bind_people_and_chats() -> None:
    data = fresh()
    data["people"]["cb_binh_long"]["telegram"] = 123456
    data["chats"]["nhom_bao_cao"]["telegram"] = -1001
    cat = build_catalogue(data)
    person = cat.person_for("telegram", "123456")
    assert person is not None
    assert person.key == "cb_binh_long"
    assert cat.person_for("telegram", "999") is None
    chat = cat.chat_for("telegram", "-1001")
    assert chat is not None
    assert chat.key == "nhom_bao_cao"


def test_default_timezone_comes_from_the_caller() -> None:
    cat = build_catalogue(fresh(), default_tz="UTC")
    assert str(cat.calendar.tz) == "UTC"


# --- refusals -------------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return apply


def _delete(path: tuple[Any, ...]) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return apply


def _duplicate_unit_code(data: dict[str, Any]) -> None:
    data["units"].append({"code": "binh_an", "name": "Xã Bình Mới"})


def _duplicate_unit_name(data: dict[str, Any]) -> None:
    data["units"].append({"code": "binh_an_2", "name": "Xã Bình An"})


def _duplicate_name_through_alias(data: dict[str, Any]) -> None:
    data["units"][1]["aliases"] = ["Bình An"]


def _same_telegram_id(data: dict[str, Any]) -> None:
    data["people"]["cb_binh_long"]["telegram"] = 42
    data["people"]["cb_chau_o"]["telegram"] = "42"


def _duplicate_field_label(data: dict[str, Any]) -> None:
    data["fields"][1]["aliases"] = ["da cap cccd"]


REFUSALS: list[tuple[str, Mutation, str]] = [
    ("unknown top-level key", _set(("colour",), "blue"), "colour"),
    ("unknown key in a unit", _set(("units", 3, "nickname"), "x"), "units[3].nickname"),
    ("unknown key in group", _set(("group", "mayor"), "x"), "group.mayor"),
    (
        "unknown key in a person",
        _set(("people", "lanh_dao", "phone"), "090"),
        "people.lanh_dao.phone",
    ),
    ("group not a table", _set(("group",), "Bình Sơn"), "group"),
    ("a unit not a table", _set(("units", 2), "binh_an"), "units[2]"),
    ("rules not an array", _set(("rules",), {"chain": []}), "rules"),
    ("aliases not strings", _set(("units", 0, "aliases"), ["Bình An", 3]), "units[0].aliases"),
    ("exempt not a boolean", _set(("units", 0, "exempt"), "no"), "units[0].exempt"),
    ("chat key with capitals", _set(("chats", "Nhom"), {}), "chats.Nhom"),
    (
        "telegram id a boolean",
        _set(("chats", "nhom_bao_cao", "telegram"), True),
        "chats.nhom_bao_cao.telegram",
    ),
    ("units missing", _delete(("units",)), "units"),
    ("units empty", _set(("units",), []), "units"),
    ("fields missing", _delete(("fields",)), "fields"),
    ("duplicate unit code", _duplicate_unit_code, "units[22].code"),
    ("two units with the same name", _duplicate_unit_name, "units[22]"),
    ("alias equal to another unit's name", _duplicate_name_through_alias, "units[1]"),
    ("bad unit code", _set(("units", 0, "code"), "Bình An"), "units[0].code"),
    ("unit without name", _delete(("units", 0, "name")), "units[0].name"),
    ("duplicate field label", _duplicate_field_label, "fields[1]"),
    (
        "numerator names an unknown field",
        _set(("indicators", 0, "numerator"), ["btxh_paid", "nope"]),
        "indicators[0].numerator",
    ),
    (
        "denominator names an unknown field",
        _set(("indicators", 5, "denominator"), ["citizen_ids"]),
        "indicators[5].denominator",
    ),
    ("empty numerator", _set(("indicators", 0, "numerator"), []), "indicators[0].numerator"),
    ("target above 100", _set(("indicators", 0, "target"), 150), "indicators[0].target"),
    ("target zero", _set(("indicators", 0, "target"), 0), "indicators[0].target"),
    ("target negative", _set(("indicators", 0, "target"), -5.5), "indicators[0].target"),
    ("target a boolean", _set(("indicators", 0, "target"), True), "indicators[0].target"),
    ("target not a number", _set(("indicators", 0, "target"), "most"), "indicators[0].target"),
    ("target infinite", _set(("indicators", 0, "target"), float("inf")), "indicators[0].target"),
    (
        "deadline as a string",
        _set(("indicators", 0, "deadline"), "2024-12-31"),
        "indicators[0].deadline",
    ),
    ("decimals out of range", _set(("indicators", 0, "decimals"), 7), "indicators[0].decimals"),
    ("unknown column", _set(("indicators", 0, "columns"), ["nope"]), "indicators[0].columns"),
    ("rule names an unknown field", _set(("rules", 0, "chain"), ["a", "b"]), "rules[0].chain"),
    ("rule of one field", _set(("rules", 0, "chain"), ["eid_verified"]), "rules[0].chain"),
    ("due_weekday unknown", _set(("calendar", "due_weekday"), "someday"), "calendar.due_weekday"),
    ("timezone unknown", _set(("calendar", "timezone"), "Mars/Base"), "calendar.timezone"),
    ("due_time malformed", _set(("calendar", "due_time"), "25:00"), "calendar.due_time"),
    ("late_hours too long", _set(("calendar", "late_hours"), 24 * 7), "calendar.late_hours"),
    (
        "officer without unit",
        _delete(("people", "cb_binh_long", "unit")),
        "people.cb_binh_long.unit",
    ),
    (
        "person's unit unknown",
        _set(("people", "cb_binh_long", "unit"), "binh_xyz"),
        "people.cb_binh_long.unit",
    ),
    ("unknown role", _set(("people", "lanh_dao", "role"), "mayor"), "people.lanh_dao.role"),
    ("same telegram id on two people", _same_telegram_id, "people.cb_chau_o.telegram"),
    (
        "chat kind unknown",
        _set(("chats", "nhom_bao_cao", "kind"), "channel"),
        "chats.nhom_bao_cao.kind",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "key"),
    [pytest.param(mutate, key, id=name) for name, mutate, key in REFUSALS],
)
def test_bad_config_is_refused_naming_the_key(mutate: Mutation, key: str) -> None:
    data = fresh()
    mutate(data)
    with pytest.raises(ConfigError) as caught:
        build_catalogue(data)
    assert caught.value.key == key
    assert caught.value.problem
    assert key in str(caught.value)


def test_mutations_do_not_leak_between_tests() -> None:
    # the shared parsed TOML stays pristine (each refusal works on a deep copy)
    assert build_catalogue(RAW).unit("binh_an").name == "Xã Bình An"


def test_a_leader_with_a_unit_is_not_its_officer() -> None:
    data = fresh()
    data["people"]["lanh_dao"]["unit"] = "binh_long"
    cat = build_catalogue(data)
    assert cat.officers_of("binh_long") == tuple(p for p in cat.people if p.key == "cb_binh_long")


EXACT_PROBLEMS: list[tuple[Mutation, str, str]] = [
    (_set(("colour",), "blue"), "colour", "khóa không được hỗ trợ (unknown key)"),
    (_delete(("units",)), "units", "thiếu (missing); cần ít nhất một mục"),
    (_set(("units",), []), "units", "phải là một mảng bảng [[...]] không rỗng"),
    (_delete(("units", 0, "name")), "units[0].name", "thiếu (missing)"),
    (_set(("group",), 3), "group", "phải là một bảng (table)"),
    (_set(("group", "name"), " "), "group.name", "phải là chuỗi không rỗng, không phải ' '"),
    (
        _set(("units", 0, "code"), "Bình An"),
        "units[0].code",
        "'Bình An' phải gồm chữ thường a-z, số và _",
    ),
    (
        _set(("calendar", "late_hours"), "48"),
        "calendar.late_hours",
        "phải là số nguyên từ 0 đến 144",
    ),
    (
        _set(("calendar", "due_time"), "25:00"),
        "calendar.due_time",
        "phải là giờ dạng \"10:00\", không phải '25:00'",
    ),
    (
        _set(("indicators", 0, "target"), True),
        "indicators[0].target",
        "phải là số phần trăm trong (0, 100]",
    ),
    (_set(("units", 0, "exempt"), 1), "units[0].exempt", "phải là true hoặc false, không phải 1"),
    (_set(("chats", "Nhom"), {}), "chats.Nhom", "tên khóa phải gồm chữ thường a-z, số và _"),
    (_same_telegram_id, "people.cb_chau_o.telegram", "id 42 đã gán cho 'cb_binh_long'"),
    (
        _set(("people", "lanh_dao", "role"), "mayor"),
        "people.lanh_dao.role",
        "phải là officer, leader hoặc admin",
    ),
]


@pytest.mark.parametrize(("mutate", "key", "problem"), EXACT_PROBLEMS)
def test_each_problem_is_one_line_in_the_same_words(
    mutate: Mutation, key: str, problem: str
) -> None:
    # The wording administrators have seen since the first release, pydantic's own texts never.
    data = fresh()
    mutate(data)
    with pytest.raises(ConfigError) as caught:
        build_catalogue(data)
    assert (caught.value.key, caught.value.problem) == (key, problem)
    assert "\n" not in str(caught.value)


def test_target_and_times_read_as_before() -> None:
    data = fresh()
    data["indicators"][0]["target"] = 40.5
    data["indicators"][1]["target"] = "35"  # text that reads as a number was always accepted
    data["calendar"]["due_time"] = time(9, 15)  # a TOML local time
    data["calendar"]["due_weekday"] = "Friday"
    cat = build_catalogue(data)
    assert cat.indicators[0].target == Decimal("40.5")
    assert cat.indicators[1].target == Decimal(35)
    assert (cat.calendar.due_weekday, cat.calendar.due_time) == (4, time(9, 15))


def test_config_error_with_source() -> None:
    err = ConfigError("units", "thiếu").at("config/x.toml")
    assert err.key == "units"
    assert str(err) == "config/x.toml: units: thiếu"


def test_nan_target_is_a_config_error() -> None:
    data = fresh()
    data["indicators"][0]["target"] = float("nan")
    with pytest.raises(ConfigError) as caught:
        build_catalogue(data)
    assert caught.value.key == "indicators[0].target"
