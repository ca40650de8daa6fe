"""core.validation.review: errors refuse a report, warnings and confirmations do not."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core.catalogue import Catalogue, build_catalogue
from core.submission import Values
from core.validation import review

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
CATALOGUE: Catalogue = build_catalogue(tomllib.loads(CONFIG.read_text(encoding="utf-8")))

GOOD: dict[str, int] = {
    "citizen_id_issued": 12446,
    "eid_verified": 10000,
    "eid_activated": 9000,
    "child_6_14_total": 1200,
    "child_6_14_issued": 1150,
}


def with_(**changes: int) -> dict[str, int]:
    return {**GOOD, **changes}


def test_a_good_report_is_accepted_quietly() -> None:
    result = review(GOOD, CATALOGUE)
    assert result.accepted
    assert result.errors == result.warnings == result.confirmations == ()


def test_missing_required_fields_are_listed_by_label() -> None:
    values = {k: v for k, v in GOOD.items() if k not in {"eid_verified", "child_6_14_total"}}
    result = review(values, CATALOGUE)
    assert not result.accepted
    missing = [e for e in result.errors if e.startswith("Thiếu số liệu")]
    assert len(missing) == 1
    assert "Đã xác thực ĐDĐT" in missing[0]
    assert "Trẻ 6-14 tuổi" in missing[0]
    # present and optional fields are not listed
    assert "Đã cấp CCCD" not in missing[0]
    assert "Trẻ dưới 6 tuổi" not in missing[0]


def test_an_empty_report_lists_every_required_field() -> None:
    result = review({}, CATALOGUE)
    assert not result.accepted
    text = " ".join(result.errors)
    for f in CATALOGUE.fields:
        assert (f.label in text) == f.required, f.label


def test_optional_indicator_half_given_is_an_error() -> None:
    result = review(with_(btxh_paid=10), CATALOGUE)
    assert not result.accepted
    assert any("Đối tượng BTXH" in e for e in result.errors)


def test_optional_indicator_given_whole_is_fine() -> None:
    result = review(with_(btxh_paid=10, btxh_total=20, ncc_paid=1, ncc_total=2), CATALOGUE)
    assert result.accepted


def test_activated_above_verified_is_one_message_with_both_numbers() -> None:
    result = review(with_(eid_activated=10500, eid_verified=10000), CATALOGUE)
    assert not result.accepted
    assert len(result.errors) == 1
    message = result.errors[0]
    assert "10.500" in message
    assert "10.000" in message
    assert "Đã kích hoạt ĐDĐT" in message
    assert "Đã xác thực ĐDĐT" in message


def test_verified_above_issued_is_one_message_with_both_numbers() -> None:
    result = review(with_(eid_verified=13000, eid_activated=9000), CATALOGUE)
    assert len(result.errors) == 1
    assert "13.000" in result.errors[0]
    assert "12.446" in result.errors[0]


def test_whole_chain_broken_gives_one_message_per_link() -> None:
    result = review(with_(eid_activated=3000, eid_verified=2000, citizen_id_issued=1000), CATALOGUE)
    assert len(result.errors) == 2
    assert "3.000" in result.errors[0]
    assert "2.000" in result.errors[0]
    assert "2.000" in result.errors[1]
    assert "1.000" in result.errors[1]


def test_chain_equal_values_are_fine() -> None:
    assert review(
        with_(eid_activated=5000, eid_verified=5000, citizen_id_issued=5000), CATALOGUE
    ).accepted


def test_numerator_above_denominator_is_refused() -> None:
    result = review(with_(child_6_14_issued=1300, child_6_14_total=1200), CATALOGUE)
    assert not result.accepted
    assert len(result.errors) == 1
    assert "Căn cước 6-14" in result.errors[0]
    assert "1.300" in result.errors[0]
    assert "1.200" in result.errors[0]


def test_summed_numerator_above_summed_denominator_is_refused() -> None:
    # each part is fine on its own except NCC, and the sums break the combined indicator
    result = review(with_(btxh_paid=5, btxh_total=10, ncc_paid=30, ncc_total=1), CATALOGUE)
    assert not result.accepted
    assert any("Chi trả KDTM" in e and "35" in e and "11" in e for e in result.errors)
    assert any("“NCC”" in e for e in result.errors)


# --- against history --------------------------------------------------------------------------


def history_steady(weeks: int = 4, step: int = 10) -> list[Values]:
    """Most recent first; every field rises by `step` a week."""
    return [{k: v - step * i for k, v in GOOD.items()} for i in range(1, weeks + 1)]


def test_cumulative_fall_needs_confirmation_not_refusal() -> None:
    last = history_steady()
    values = with_(citizen_id_issued=last[0]["citizen_id_issued"] - 1)
    result = review(values, CATALOGUE, last)
    assert result.accepted
    assert result.errors == ()
    assert len(result.confirmations) == 1
    assert "Đã cấp CCCD" in result.confirmations[0]
    assert "12.435" in result.confirmations[0]  # now
    assert "12.436" in result.confirmations[0]  # last week


def test_equal_to_last_week_needs_no_confirmation() -> None:
    last: list[Values] = [dict(GOOD)]
    result = review(GOOD, CATALOGUE, last)
    assert result.accepted
    assert result.confirmations == ()
    assert result.warnings == ()


def test_fall_is_not_checked_when_the_report_is_refused() -> None:
    result = review(with_(eid_activated=20000), CATALOGUE, [dict(GOOD, eid_activated=25000)])
    assert not result.accepted
    assert result.confirmations == ()


def test_jump_far_outside_the_recent_range_warns() -> None:
    history = history_steady()
    values = with_(citizen_id_issued=history[0]["citizen_id_issued"] + 500)
    result = review(values, CATALOGUE, history)
    assert result.accepted
    assert result.confirmations == ()
    assert len(result.warnings) == 1
    assert "Đã cấp CCCD" in result.warnings[0]
    assert "500" in result.warnings[0]
    assert "10/tuần" in result.warnings[0]


@pytest.mark.parametrize("step", [0, 10, 20, 30, 59])
def test_a_normal_increase_does_not_warn(step: int) -> None:
    history = history_steady()
    values = with_(citizen_id_issued=history[0]["citizen_id_issued"] + step)
    result = review(values, CATALOGUE, history)
    assert result.accepted
    assert result.warnings == ()
    assert result.confirmations == ()


def test_jump_floor_boundary() -> None:
    # usual step 10: a step of 60 is over 3 x 10 and 50 more than usual; 59 is not
    history = history_steady()
    values = with_(citizen_id_issued=history[0]["citizen_id_issued"] + 60)
    assert len(review(values, CATALOGUE, history).warnings) == 1


def test_jump_needs_enough_history() -> None:
    history = history_steady(weeks=2)  # only one weekly step known
    values = with_(citizen_id_issued=history[0]["citizen_id_issued"] + 500)
    assert review(values, CATALOGUE, history).warnings == ()


def test_jump_compares_with_the_largest_recent_step() -> None:
    history = history_steady()
    history[1] = {**history[1], "citizen_id_issued": history[1]["citizen_id_issued"] - 200}
    # recent steps: 210 (last week), 0 ... -> 500 is not more than 3 x 210
    values = with_(citizen_id_issued=history[0]["citizen_id_issued"] + 500)
    assert review(values, CATALOGUE, history).warnings == ()


def test_without_history_there_are_no_warnings() -> None:
    result = review(GOOD, CATALOGUE, [])
    assert result.warnings == ()
    assert result.confirmations == ()
