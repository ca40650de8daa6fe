"""`[[rules]]`: the expression language, its refusals, and what a rule says about a report."""

from __future__ import annotations

import copy
import operator
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.catalogue import Catalogue, ConfigError, build_catalogue
from core.rules import (
    BinOp,
    Comparison,
    FieldRef,
    Number,
    Rule,
    RuleSyntaxError,
    Severity,
    format_number,
    parse,
)
from core.validation import review, rule_warnings

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
_DATA = tomllib.loads(CONFIG.read_text("utf-8"))
FIELDS = {"level1", "level2", "total", "issued", "population", "a", "b", "c"}
LABELS = {"level1": "Mức 1", "level2": "Mức 2", "total": "Tổng", "issued": "Đã cấp"}
LABELS |= {"population": "Dân số"}


def _rule(text: str, severity: Severity = Severity.ERROR, message: str | None = None) -> Rule:
    return Rule(text, parse(text, FIELDS), severity, message)


def _said(text: str, values: dict[str, int]) -> list[str]:
    return [b.describe(LABELS, values) for b in _rule(text).breaches(values)]


# --- reading ----------------------------------------------------------------------------------


def test_a_sum_reads_as_a_tree_with_the_usual_precedence() -> None:
    assert parse("level1 + level2 * 2 = total", FIELDS) == Comparison(
        (
            BinOp("+", FieldRef("level1"), BinOp("*", FieldRef("level2"), Number(Decimal(2)))),
            FieldRef("total"),
        ),
        ("=",),
    )


@pytest.mark.parametrize(
    "text",
    [
        "level1 + level2 = total",
        "level1+level2==total",
        "a <= b <= c",
        "a ≤ b ≤ c",
        "issued <= 1.1 * population",
        "issued <= 1.1 × population",
        "(a - b) * 2 >= -c",
        "a != b",
        "a ≠ b",
        "a < b",
        "a > 0",
        "  a   >=   b  ",
    ],
)
def test_good_expressions_are_read(text: str) -> None:
    assert parse(text, FIELDS).ops


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("__import__('os')", "ký tự '_' (vị trí 1) không được dùng"),
        ("a.__class__ <= b", "ký tự '.' (vị trí 2) không được dùng"),
        ("open('x') = a", 'ký tự "\'" (vị trí 6) không được dùng'),
        ("open(a) = b", "trường 'open' không có trong [[fields]]"),
        ("a(b) <= c", "không hiểu '(' ở vị trí 2"),
        ("a <= b; import os", "ký tự ';' (vị trí 7) không được dùng"),
        ("a ** 2 <= b", "không hiểu '*' ở vị trí 4"),
        ("a / 2 <= b", "ký tự '/' (vị trí 3) không được dùng"),
        ("lambda: 1", "ký tự ':' (vị trí 7) không được dùng"),
        ("a <= b if c else a", "không hiểu 'if' ở vị trí 8"),
        ("a <= b and b <= c", "không hiểu 'and' ở vị trí 8"),
        ("Level1 = total", "ký tự 'L' (vị trí 1) không được dùng"),
        ("level3 + level1 = total", "trường 'level3' không có trong [[fields]]"),
        ("a <= 1,1 * b", "số thập phân viết bằng dấu chấm, ví dụ 1.1 (vị trí 6)"),
        ("level1 + level2", "cần một phép so sánh"),
        ("1 <= 2", "cần ít nhất một mã trường"),
        ("a <= (b + c", "ngoặc mở ở vị trí 6 chưa được đóng"),
        ("a <=", "biểu thức kết thúc giữa chừng"),
        ("", "biểu thức kết thúc giữa chừng"),
        ("(" * 30 + "a" + ")" * 30 + " <= b", "lồng quá 20 tầng ngoặc"),
        ("-" * 30 + "a <= b", "lồng quá 20 tầng ngoặc"),
        ("a + " * 200 + "a <= b", "dài quá 500 ký tự"),
    ],
)
def test_anything_else_is_refused_with_one_reason(text: str, reason: str) -> None:
    with pytest.raises(RuleSyntaxError) as refused:
        parse(text, FIELDS)
    assert reason in refused.value.reason
    assert "\n" not in refused.value.reason


# --- evaluating -------------------------------------------------------------------------------


def test_a_broken_sum_names_the_figures() -> None:
    values = {"level1": 595, "level2": 6854, "total": 7494}
    assert _said("level1 + level2 = total", values) == [
        "Mức 1 (595) + Mức 2 (6.854) = 7.449, không bằng Tổng (7.494)."
    ]
    assert _said("level1 + level2 = total", values | {"total": 7449}) == []


def test_a_chain_checks_each_link_and_only_links_whose_fields_are_given() -> None:
    labels = {"a": "A", "b": "B", "c": "C"}
    rule = _rule("a <= b <= c")
    both = rule.breaches({"a": 5, "b": 4, "c": 3})
    assert [b.describe(labels, {"a": 5, "b": 4, "c": 3}) for b in both] == [
        "A (5) không được lớn hơn B (4).",
        "B (4) không được lớn hơn C (3).",
    ]
    assert [b.pair for b in both] == [("a", "b"), ("b", "c")]
    assert len(rule.breaches({"a": 5, "b": 4})) == 1  # c not given: only a <= b is checked
    assert rule.breaches({"a": 5, "c": 3}) == []  # no link has both its fields


def test_a_share_is_exact_and_printed_as_the_letters_print_numbers() -> None:
    values = {"issued": 1102, "population": 1001}
    assert _said("issued <= 1.1 * population", values) == [
        "Đã cấp (1.102) không được lớn hơn 1,1 × Dân số (1.001) = 1.101,1."
    ]
    assert _said("issued <= 1.1 * population", values | {"issued": 1101}) == []


def test_parentheses_come_back_where_they_are_needed() -> None:
    values = {"a": 2, "b": 3, "c": 1}
    assert _said("(a + b) * 2 <= c - (a - b)", values) == [
        "(a (2) + b (3)) × 2 = 10, không được lớn hơn c (1) − (a (2) − b (3)) = 2."
    ]


def test_every_verb() -> None:
    values = {"a": 1, "b": 2}
    labels = {"a": "A", "b": "B"}
    said = {
        text: [b.describe(labels, values) for b in _rule(text).breaches(values)]
        for text in ("a = b", "a >= b", "a > b", "b < a", "b <= a", "a != 1")
    }
    assert said == {
        "a = b": ["A (1) không bằng B (2)."],
        "a >= b": ["A (1) không được nhỏ hơn B (2)."],
        "a > b": ["A (1) phải lớn hơn B (2)."],
        "b < a": ["B (2) phải nhỏ hơn A (1)."],
        "b <= a": ["B (2) không được lớn hơn A (1)."],
        "a != 1": ["A (1) không được bằng 1."],
    }


def test_a_rule_message_comes_first() -> None:
    rule = _rule("a <= b", Severity.WARNING, "Số đã làm vượt chỉ tiêu.")
    [breach] = rule.breaches({"a": 3, "b": 2})
    assert breach.describe({"a": "A", "b": "B"}, {"a": 3, "b": 2}) == (
        "Số đã làm vượt chỉ tiêu — A (3) không được lớn hơn B (2)."
    )


def test_format_number() -> None:
    assert format_number(Decimal("1100.0")) == "1.100"
    assert format_number(Decimal("1948.2")) == "1.948,2"
    assert format_number(Decimal("-3")) == "-3"


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}
_CMPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> tuple[str, int]:
    """(text, value) of a random expression over a, b, c = the values drawn below."""
    values = draw(st.shared(st.tuples(*[st.integers(0, 10**9)] * 3), key="values"))
    if depth >= 3 or draw(st.booleans()):
        if draw(st.booleans()):
            n = draw(st.integers(0, 10**6))
            return str(n), n
        name = draw(st.sampled_from("abc"))
        return name, values["abc".index(name)]
    op = draw(st.sampled_from(sorted(_OPS)))
    left, lv = draw(_expressions(depth + 1))
    right, rv = draw(_expressions(depth + 1))
    return f"({left} {op} {right})", _OPS[op](lv, rv)


@given(
    st.shared(st.tuples(*[st.integers(0, 10**9)] * 3), key="values"),
    _expressions(),
    st.sampled_from(sorted(_CMPS)),
    _expressions(),
)
def test_evaluation_equals_python_arithmetic(
    values: tuple[int, int, int], left: tuple[str, int], op: str, right: tuple[str, int]
) -> None:
    text = f"a + 0 * b * c + {left[0]} {op} {right[0]} - a"  # names every field once at least
    rule = Rule(text, parse(text, FIELDS))
    given_values = dict(zip("abc", values, strict=True))
    broken = rule.breaches(given_values)
    assert (not broken) == _CMPS[op](values[0] + left[1], right[1] - values[0])


# --- in the set-up file -----------------------------------------------------------------------


def _with_rules(*rules: dict[str, Any]) -> Catalogue:
    data = copy.deepcopy(_DATA)
    data["rules"] = list(rules)
    return build_catalogue(data)


def _refused(*rules: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as refused:
        _with_rules(*rules)
    return str(refused.value)


def test_the_old_chain_still_loads_as_an_error_rule() -> None:
    cat = _with_rules({"chain": ["eid_activated", "eid_verified", "citizen_id_issued"]})
    [rule] = cat.rules
    assert rule.text == "eid_activated <= eid_verified <= citizen_id_issued"
    assert rule.severity is Severity.ERROR


def test_expr_severity_and_message_load() -> None:
    cat = _with_rules(
        {"expr": "btxh_paid + ncc_paid <= btxh_total + ncc_total"},
        {"expr": "child_6_14_issued <= child_6_14_total", "severity": "warning", "message": "Xem"},
    )
    assert [(r.severity, r.message) for r in cat.rules] == [
        (Severity.ERROR, None),
        (Severity.WARNING, "Xem"),
    ]


@pytest.mark.parametrize(
    ("rules", "line"),
    [
        (
            [{"expr": "eid_verified <= citizen_id_issued"}, {"expr": "level1 + level2 = total"}],
            "rules[1].expr: trường 'level1' không có trong [[fields]] (“level1 + level2 = total”)",
        ),
        (
            [{"expr": "__import__('os').system('x') = 1"}],
            "rules[0].expr: ký tự '_' (vị trí 1) không được dùng",
        ),
        ([{"expr": "eid_verified", "severity": "info"}], "rules[0].severity: phải là"),
        ([{"severity": "warning"}], "rules[0]: cần đúng một trong hai khóa"),
        (
            [{"chain": ["eid_verified", "citizen_id_issued"], "expr": "eid_verified > 0"}],
            "rules[0]: cần đúng một trong hai khóa",
        ),
        ([{"expr": "eid_verified", "colour": "red"}], "rules[0].colour: khóa không được hỗ trợ"),
        ([{"chain": ["eid_verified", "nope"]}], "rules[0].chain: trường 'nope' không có"),
        ([{"expr": ""}], "rules[0].expr: phải là chuỗi không rỗng"),
        ([{"expr": "eid_verified + 1"}], "rules[0].expr: cần một phép so sánh"),
    ],
)
def test_a_bad_rule_is_one_config_line(rules: list[dict[str, Any]], line: str) -> None:
    said = _refused(*rules)
    assert said.startswith(line), said
    assert "\n" not in said


def test_the_shipped_rules() -> None:
    cat = build_catalogue(copy.deepcopy(_DATA))
    assert [(r.text, r.severity) for r in cat.rules] == [
        ("eid_activated <= eid_verified <= citizen_id_issued", Severity.ERROR),
        ("child_6_14_total <= 0.3 * citizen_id_issued", Severity.CONFIRM),
        ("btxh_total + ncc_total <= 0.3 * citizen_id_issued", Severity.WARNING),
    ]


# --- what review() makes of each severity -----------------------------------------------------

REPORT = {
    "citizen_id_issued": 6352,
    "eid_verified": 5014,
    "eid_activated": 4454,
    "child_6_14_total": 898,
    "child_6_14_issued": 286,
    "btxh_total": 440,
    "btxh_paid": 401,
    "ncc_total": 106,
    "ncc_paid": 106,
}


def test_each_severity_lands_where_it_belongs() -> None:
    cat = _with_rules(
        {"expr": "eid_activated <= eid_verified", "severity": "error"},
        {"expr": "child_6_14_total <= 0.1 * citizen_id_issued", "severity": "confirm"},
        {"expr": "btxh_total + ncc_total <= 0.05 * citizen_id_issued", "severity": "warning"},
    )
    verdict = review(REPORT, cat)
    assert verdict.accepted
    assert verdict.confirmations == (
        "Trẻ 6-14 tuổi (898) không được lớn hơn 0,1 × Đã cấp CCCD (6.352) = 635,2.",
    )
    assert verdict.warnings == (
        "Đối tượng BTXH (440) + Đối tượng NCC (106) = 546, "
        "không được lớn hơn 0,05 × Đã cấp CCCD (6.352) = 317,6.",
    )
    assert rule_warnings(cat, REPORT) == list(verdict.warnings)
    refused = review(REPORT | {"eid_activated": 6000}, cat)
    assert refused.errors == (
        "Đã kích hoạt ĐDĐT (6.000) không được lớn hơn Đã xác thực ĐDĐT (5.014).",
    )
    assert not refused.confirmations
    assert not refused.warnings


def test_an_error_rule_on_an_indicators_pair_says_it_once() -> None:
    cat = _with_rules({"expr": "child_6_14_issued <= child_6_14_total"})
    verdict = review(REPORT | {"child_6_14_issued": 900}, cat)
    assert verdict.errors == (
        "Đã cấp Căn cước 6-14 tuổi (900) không được lớn hơn Trẻ 6-14 tuổi (898).",
    )


def test_a_rule_over_fields_the_report_leaves_out_is_not_checked() -> None:
    cat = _with_rules({"expr": "workers_surveyed + 1 <= workers_total", "severity": "warning"})
    assert review(REPORT, cat).warnings == ()
