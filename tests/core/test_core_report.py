"""core.report.parse_report: `label: value` lines into values, with every problem named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core.catalogue import Catalogue, build_catalogue
from core.report import MAX_PROBLEMS_SHOWN, MAX_REPORT_CHARS, parse_report, split_line

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
CATALOGUE: Catalogue = build_catalogue(tomllib.loads(CONFIG.read_text(encoding="utf-8")))


def parse(body: str) -> tuple[dict[str, int], tuple[str, ...]]:
    report = parse_report(body, CATALOGUE)
    return dict(report.values), report.problems


@pytest.mark.parametrize(
    "line",
    [
        "Đã cấp CCCD: 6.352",
        "Đã cấp CCCD : 6.352",
        "Đã cấp CCCD=6.352",
        "Đã cấp CCCD = 6 352",
        "Đã cấp CCCD - 6.352",
        "Đã cấp CCCD – 6,352",
        "- Đã cấp CCCD: 6.352",
        "+ Đã cấp CCCD: 6352",
        "• Đã cấp CCCD: 6352",
        "* Đã cấp CCCD: 6352",
        "- Đã cấp CCCD - 6352",
        "   da cap cccd:6352   ",
    ],
)
def test_separators_and_bullets(line: str) -> None:
    values, problems = parse(line)
    assert problems == ()
    assert values == {"citizen_id_issued": 6352}


def test_a_dash_inside_a_label_is_not_a_separator() -> None:
    values, problems = parse("Trẻ 6-14 tuổi - 1.200\nĐã cấp 6-14: 1.100")
    assert problems == ()
    assert values == {"child_6_14_total": 1200, "child_6_14_issued": 1100}


def test_split_line() -> None:
    assert split_line("- Đã cấp CCCD: 6.352") == ("Đã cấp CCCD", "6.352")
    assert split_line("Tuần: 45/2024") == ("Tuần", "45/2024")
    assert split_line("Xã Bình Long") is None


def test_full_report_with_unit_and_period_lines() -> None:
    body = "\n".join(
        [
            "Đơn vị: Xã Bình Long",
            "Tuần: 45/2024",
            "- Đã cấp CCCD: 6.352",
            "- Đã xác thực ĐDĐT: 5.100",
            "- Đã kích hoạt ĐDĐT: 4.900",
            "- Trẻ 6-14 tuổi: 1.200",
            "- Đã cấp Căn cước 6-14 tuổi: 1.150",
        ]
    )
    report = parse_report(body, CATALOGUE)
    assert report.ok
    assert report.unit_text == "Xã Bình Long"
    assert report.period_text == "45/2024"
    assert dict(report.values) == {
        "citizen_id_issued": 6352,
        "eid_verified": 5100,
        "eid_activated": 4900,
        "child_6_14_total": 1200,
        "child_6_14_issued": 1150,
    }


@pytest.mark.parametrize(
    ("line", "unit"),
    [("Đơn vị: Châu Ổ", "Châu Ổ"), ("ĐV: binh long", "binh long"), ("Xã: Bình An", "Bình An")],
)
def test_unit_line_variants(line: str, unit: str) -> None:
    report = parse_report(line, CATALOGUE)
    assert report.unit_text == unit
    assert report.problems == ()
    assert dict(report.values) == {}


@pytest.mark.parametrize("line", ["Tuần: 2024-W45", "tuan = 45/2024", "Kỳ báo cáo: 45/2024"])
def test_period_line_variants(line: str) -> None:
    report = parse_report(line, CATALOGUE)
    assert report.period_text in {"2024-W45", "45/2024"}
    assert report.problems == ()


def test_lines_without_separator_are_kept_as_bare_lines() -> None:
    report = parse_report("Xã Bình Long\nĐã cấp CCCD: 5", CATALOGUE)
    assert report.bare_lines == ("Xã Bình Long",)
    assert report.ok


def test_unknown_label_is_named_with_suggestions() -> None:
    values, problems = parse("Đã cấp CCCD: 10\nĐã kích hoạ: 5")
    assert values == {"citizen_id_issued": 10}
    assert len(problems) == 1
    assert "Đã kích hoạ" in problems[0]
    assert "Đã kích hoạt ĐDĐT" in problems[0]


def test_unknown_label_without_suggestions() -> None:
    _, problems = parse("Qwertyuiop: 5")
    assert len(problems) == 1
    assert "Qwertyuiop" in problems[0]
    assert "Có phải" not in problems[0]


def test_bad_number_names_the_field_label() -> None:
    values, problems = parse("da cap cccd: 6,35")
    assert values == {}
    assert len(problems) == 1
    assert problems[0].startswith("Đã cấp CCCD:")  # the configured label, not what was typed
    assert "6,35" in problems[0]


@pytest.mark.parametrize("value", ["-5", "abc", "1e9", "6.35"])
def test_bad_numbers_are_problems_not_values(value: str) -> None:
    values, problems = parse(f"Kích hoạt: {value}")
    assert values == {}
    assert len(problems) == 1
    assert "Đã kích hoạt ĐDĐT" in problems[0]


def test_same_field_twice_with_different_values() -> None:
    values, problems = parse("Đã cấp CCCD: 6.352\nCCCD: 6.353")
    assert len(problems) == 1
    assert "Đã cấp CCCD" in problems[0]
    assert "6.352" in problems[0]
    assert "6.353" in problems[0]
    # Neither figure is kept: the template sent back leaves the field for the officer to choose.
    assert values == {}
    values, problems = parse("Đã cấp CCCD: 6.352\nCCCD: 6.353\nCCCD: 6.352")
    assert len(problems) == 1
    assert values == {}


def test_same_field_twice_with_the_same_value_is_fine() -> None:
    values, problems = parse("Đã cấp CCCD: 6.352\nCCCD: 6352")
    assert problems == ()
    assert values == {"citizen_id_issued": 6352}


def test_blank_value_lines_of_a_copied_template_are_ignored() -> None:
    body = (
        "Đơn vị: Xã Bình Long\nĐã cấp CCCD: 6.352\nĐã xác thực ĐDĐT:\n- Trẻ dưới 6 tuổi: \nBTXH ="
    )
    values, problems = parse(body)
    assert problems == ()
    assert values == {"citizen_id_issued": 6352}


def test_an_unknown_label_without_a_figure_is_a_note_not_a_problem() -> None:
    # `Dạ xã Bình Châu báo cáo:` loses no figure; the handler lists it as ignored.
    report = parse_report("Ghi chú linh tinh:\nNgười báo cáo: Lê Thị Lan", CATALOGUE)
    assert report.problems == ()
    assert report.bare_lines == ("Ghi chú linh tinh:",)  # may still name the unit
    assert report.ignored == ("Người báo cáo: Lê Thị Lan",)


def test_an_unknown_label_with_a_figure_is_still_a_problem() -> None:
    _, problems = parse("Ghi chú linh tinh: 12")
    assert len(problems) == 1


def test_empty_body() -> None:
    report = parse_report("", CATALOGUE)
    assert report.ok
    assert dict(report.values) == {}


def test_body_at_the_limit_is_read() -> None:
    line = "Đã cấp CCCD: 6352"
    body = line + "\n" * (MAX_REPORT_CHARS - len(line))
    assert len(body) == MAX_REPORT_CHARS
    values, problems = parse(body)
    assert problems == ()
    assert values == {"citizen_id_issued": 6352}


def test_body_over_the_limit_is_refused_with_one_problem() -> None:
    line = "Đã cấp CCCD: 6352"
    body = line + "\n" * (MAX_REPORT_CHARS - len(line) + 1)
    report = parse_report(body, CATALOGUE)
    assert len(report.problems) == 1
    assert str(MAX_REPORT_CHARS) in report.problems[0]
    assert dict(report.values) == {}
    assert not report.ok


def test_a_thousand_bad_lines_produce_at_most_nine_problems() -> None:
    report = parse_report("x: 1\n" * 1000, CATALOGUE)
    assert 1 <= len(report.problems) <= MAX_PROBLEMS_SHOWN + 1


def test_many_problems_are_cut_to_eight_and_a_count() -> None:
    body = "x: 1\n" * 700  # under the length limit
    assert len(body) <= MAX_REPORT_CHARS
    report = parse_report(body, CATALOGUE)
    assert MAX_PROBLEMS_SHOWN == 8
    assert len(report.problems) == 9
    assert all("“x”" in p for p in report.problems[:8])
    assert report.problems[8] == "… và 692 lỗi khác."


def test_exactly_eight_problems_are_all_shown() -> None:
    report = parse_report("x: 1\n" * 8, CATALOGUE)
    assert len(report.problems) == 8
    assert not any("lỗi khác" in p for p in report.problems)


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u200e"])
def test_zero_width_characters_inside_a_label_still_match(invisible: str) -> None:
    values, problems = parse(f"Đã{invisible} cấp C{invisible}CCD: 6.352")
    assert problems == ()
    assert values == {"citizen_id_issued": 6352}


def test_windows_line_endings_and_decomposed_text() -> None:
    decomposed = "Đa\u0303 câ\u0301p CCCD: 10\r\nKi\u0301ch hoa\u0323t: 5\r\n"
    values, problems = parse(decomposed)
    assert problems == ()
    assert values == {"citizen_id_issued": 10, "eid_activated": 5}


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("13112.", "13112"),
        ("10300;", "10300"),
        ("12 446 người", "12 446"),
        ("491 tài khoản", "491"),
        ("491 (tăng 12)", "491"),
        ("491 tài khoản (tăng 12).", "491"),
        ("7.082.", "7.082"),
        ("7 nghìn", "7 nghìn"),  # a word that changes the number is left for parse_count
        ("6,35", "6,35"),
    ],
)
def test_number_text_keeps_only_the_count(typed: str, number: str) -> None:
    from core.report import number_text

    assert number_text(typed) == number


@pytest.mark.parametrize(
    "line",
    [
        "1. Đã cấp CCCD: 13112",
        "a) Đã cấp CCCD: 13112",
        "Đã cấp CCCD 13112",
        "Đã cấp CCCD = 13112",
        "Đã cấp CCCD - 13112",
        "Đã cấp CCCD — 13112",
        "Đã cấp CCCD: 13112.",
        "Đã cấp CCCD 13 112 người",
        "Đã cấp CCCD (người): 13112",
    ],
)
def test_field_lines_as_phones_write_them(line: str) -> None:
    assert parse(line) == ({"citizen_id_issued": 13112}, ())


def test_a_label_with_digits_and_no_colon_takes_the_last_number() -> None:
    assert parse("Trẻ 6-14 tuổi 898") == ({"child_6_14_total": 898}, ())


@pytest.mark.parametrize(
    "line",
    ["Lê Thị Lan, [11.11.24 08:30]", "Ngày 18/11/2024", "18/11/2024", "Báo cáo tuần 47"],
)
def test_dates_headers_and_week_headings_are_ignored(line: str) -> None:
    report = parse_report(line + "\nĐã cấp CCCD: 1", CATALOGUE)
    assert report.problems == ()
    assert report.ignored == (line,)


def test_a_week_heading_is_kept_for_the_handler() -> None:
    assert parse_report("BÁO CÁO TUẦN 46/2024", CATALOGUE).header_week == (
        "BÁO CÁO TUẦN 46/2024",
        46,
        2024,
    )
