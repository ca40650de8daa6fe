"""core.text and core.matching: units and field labels as officers type them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core import catalogue
from core.catalogue import Catalogue, Unit, build_catalogue
from core.matching import match_unit, strip_unit_type
from core.text import clean, collate, fold, key, label_key, strip_diacritics

CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
CATALOGUE: Catalogue = build_catalogue(tomllib.loads(CONFIG.read_text(encoding="utf-8")))

# --- core.text -------------------------------------------------------------------------------


def test_clean_normalises_and_removes_invisible_characters() -> None:
    decomposed = "Bi\u0300nh"  # i + combining grave
    assert clean(decomposed) == "Bình"
    assert clean("  Đã\u200b cấp\u00a0\u00a0CCCD\ufeff \n") == "Đã cấp CCCD"
    assert clean("\u202bBình\u202c Long") == "Bình Long"


def test_fold_keeps_diacritics_and_key_drops_them() -> None:
    assert fold("ĐÃ CẤP CCCD") == "đã cấp cccd"
    assert key("ĐÃ CẤP CCCD") == "da cap cccd"
    assert key("Đã cấp CCCD") == key("da cap cccd")
    assert fold("Bình Thanh") != fold("Bình Thạnh")
    assert key("Bình Thanh") == key("Bình Thạnh")


def test_strip_diacritics() -> None:
    assert strip_diacritics("Thị trấn Châu Ổ") == "Thi tran Chau O"
    assert strip_diacritics("Đông đảo") == "Dong dao"


def test_label_key_ignores_punctuation() -> None:
    assert label_key("Đã cấp CCCD:") == "da cap cccd"
    assert label_key("  Trẻ 6-14 tuổi ") == "tre 6 14 tuoi"
    assert label_key("Trẻ 6 - 14 tuổi") == label_key("Trẻ 6-14 tuổi")


def test_collate_sorts_d_before_dj_and_plain_before_marked() -> None:
    names = ["Đông", "Dương", "An", "Ân", "Bình"]
    assert sorted(names, key=collate) == ["An", "Ân", "Bình", "Dương", "Đông"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Xã Bình Long", "Bình Long"),
        ("xã Bình Long", "Bình Long"),
        ("TT. Châu Ổ", "Châu Ổ"),
        ("TT Châu Ổ", "Châu Ổ"),
        ("Thị trấn Châu Ổ", "Châu Ổ"),
        ("Phường 1", "1"),
        ("Bình Long", "Bình Long"),
        ("Xãbình", "Xãbình"),
    ],
)
def test_strip_unit_type(name: str, expected: str) -> None:
    assert strip_unit_type(name) == expected


# --- units -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Binh Long",
        "bình long",
        "Xã Bình Long",
        "xã bình long",
        "binh_long",
        "  Bình   Long ",
        "BINH LONG",
    ],
)
def test_binh_long_spellings(text: str) -> None:
    match = CATALOGUE.match_unit(text)
    assert match.unit is not None
    assert match.unit.code == "binh_long"
    assert match.unit.name == "Xã Bình Long"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("xa binh long", "binh_long"),
        ("XA BINH LONG", "binh_long"),
        ("thi tran chau o", "chau_o"),
        ("tt chau o", "chau_o"),
        ("X. Bình Long", "binh_long"),
    ],
)
def test_unit_type_without_diacritics(text: str, code: str) -> None:
    match = CATALOGUE.match_unit(text)
    assert match.unit is not None
    assert match.unit.code == code


@pytest.mark.parametrize(
    "text", ["Châu Ô", "Châu Ổ", "TT Châu Ổ", "chau o", "Thị trấn Châu Ổ", "Thị trấn Châu Ô"]
)
def test_chau_o_spellings_and_alias(text: str) -> None:
    match = CATALOGUE.match_unit(text)
    assert match.unit is not None
    assert match.unit.code == "chau_o"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Bình Thanh", "binh_thanh"),
        ("Xã Bình Thanh", "binh_thanh"),
        ("Bình Thạnh", "binh_thanh_2"),
        ("xã bình thạnh", "binh_thanh_2"),
    ],
)
def test_exact_diacritics_pick_one_of_the_near_twins(text: str, code: str) -> None:
    match = CATALOGUE.match_unit(text)
    assert match.unit is not None
    assert match.unit.code == code
    assert match.candidates == ()


@pytest.mark.parametrize(
    "text",
    [
        "Binh Thanh",
        "binh thanh",
        "Binh Thạnh",
        "Bình Thánh",
        "Bình Thãnh",
        "xa binh thanh",
        "xã binh thanh",
        "Xã Binh Thạnh",
    ],
)
def test_ambiguous_near_twins_are_never_matched_silently(text: str) -> None:
    match = CATALOGUE.match_unit(text)
    assert match.unit is None
    assert {u.code for u in match.candidates} == {"binh_thanh", "binh_thanh_2"}


def test_wrong_diacritic_on_a_unique_name_is_asked_not_matched() -> None:
    # `Bính Long` is not `Bình Long`: a different mark is another name.
    match = CATALOGUE.match_unit("Bính Long")
    assert match.unit is None
    assert [u.code for u in match.candidates] == ["binh_long"]


@pytest.mark.parametrize("text", ["", "   ", "Xã", "Hà Nội", "Bình", "Long"])
def test_unknown_or_empty_finds_nothing(text: str) -> None:
    match = CATALOGUE.match_unit(text)
    assert match.unit is None
    assert match.candidates == ()


def test_two_exact_matches_are_asked_about_not_guessed() -> None:
    # build_catalogue refuses such a pair, but match_unit itself must not pick one
    units = [Unit("xa_binh_an", "Xã Bình An"), Unit("p_binh_an", "Phường Bình An")]
    match = match_unit(units, "Bình An")
    assert match.unit is None
    assert {u.code for u in match.candidates} == {"xa_binh_an", "p_binh_an"}


def test_every_configured_unit_finds_itself_by_name_and_code() -> None:
    for unit in CATALOGUE.units:
        assert CATALOGUE.match_unit(unit.name).unit == unit
        assert CATALOGUE.match_unit(unit.code).unit == unit
        assert CATALOGUE.match_unit(unit.short_name).unit == unit


# --- labels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Đã cấp CCCD", "citizen_id_issued"),
        ("da cap cccd", "citizen_id_issued"),
        ("ĐÃ CẤP CCCD", "citizen_id_issued"),
        ("  đã   cấp cccd ", "citizen_id_issued"),
        ("Đã\u200b cấp CCCD", "citizen_id_issued"),
        ("CCCD", "citizen_id_issued"),
        ("Số CCCD đã cấp", "citizen_id_issued"),
        ("citizen_id_issued", "citizen_id_issued"),
        ("Xác thực mức 2", "eid_verified"),
        ("xac thuc", "eid_verified"),
        ("Đã kích hoạt ĐDĐT", "eid_activated"),
        ("da kich hoat dddt", "eid_activated"),
        ("Kích hoạt", "eid_activated"),
        ("Trẻ 6-14 tuổi", "child_6_14_total"),
        ("tre 6 14 tuoi", "child_6_14_total"),
        ("Đã cấp CC dưới 6", "child_u6_issued"),
        ("BTXH", "btxh_total"),
        ("NCC không dùng tiền mặt", "ncc_paid"),
    ],
)
def test_field_for_label(text: str, code: str) -> None:
    assert CATALOGUE.field_for_label(text) == code


@pytest.mark.parametrize("text", ["", "Đã cấp", "CCCD mới", "Số dân", "Đã kích hoạ"])
def test_unknown_labels(text: str) -> None:
    assert CATALOGUE.field_for_label(text) is None


def test_suggest_labels_for_a_truncated_label() -> None:
    suggestions = CATALOGUE.suggest_labels("Đã kích hoạ")
    assert "Đã kích hoạt ĐDĐT" in suggestions
    assert len(suggestions) <= 3
    # suggestions are configured labels, with their diacritics
    labels = {f.label for f in CATALOGUE.fields}
    assert set(suggestions) <= labels


def test_suggest_labels_limit_and_nothing_close() -> None:
    assert len(CATALOGUE.suggest_labels("Đã cấp", limit=1)) == 1
    assert CATALOGUE.suggest_labels("zzzzzzzzzzzz") == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("eid_verified", "eid_verified"),
        ("Xác thực ĐDĐT", "eid_verified"),
        ("xac thuc dddt", "eid_verified"),
        ("Kích hoạt ĐDĐT", "eid_activated"),
        ("người lao động", "worker_survey"),
    ],
)
def test_find_indicator(text: str, code: str) -> None:
    found = CATALOGUE.find_indicator(text)
    assert found is not None
    assert found.code == code


def test_find_indicator_refuses_unknown_and_ambiguous() -> None:
    assert CATALOGUE.find_indicator("không có") is None
    # `căn cước` occurs in two indicator names
    assert CATALOGUE.find_indicator("căn cước") is None


def test_the_catalogue_module_still_offers_the_matching_helpers() -> None:
    # Callers import them from core.catalogue, where they lived before core.matching.
    assert catalogue.match_unit is match_unit
    assert catalogue.strip_unit_type is strip_unit_type


@pytest.mark.parametrize(
    ("old", "new"),
    [("Tân Hoà", "Tân Hòa"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"), ("uý", "úy"), ("HOÀ", "HÒA")],
)
def test_old_and_new_tone_placement_are_one_spelling(old: str, new: str) -> None:
    from core.text import modern_tones

    assert modern_tones(old) == new
    assert modern_tones(new) == new


@pytest.mark.parametrize("word", ["quý", "hoàn", "hoặc", "khuya", "Bình Long"])
def test_tone_placement_leaves_other_syllables_alone(word: str) -> None:
    from core.text import modern_tones

    assert modern_tones(word) == word


@pytest.mark.parametrize("typed", ["Xã Bình Hoà", "Bình Hoà", "UBND xã Bình Hoà", "BÌNH HOÀ"])
def test_old_tone_placement_names_the_unit(typed: str) -> None:
    assert CATALOGUE.match_unit(typed).unit == CATALOGUE.unit("binh_hoa")


def test_committee_prefix_is_stripped() -> None:
    assert strip_unit_type("UBND xã Bình Thuận") == "Bình Thuận"
    assert strip_unit_type("Ủy ban nhân dân xã Bình Thuận") == "Bình Thuận"


def test_a_real_diacritic_is_still_never_guessed() -> None:
    match = CATALOGUE.match_unit("Bình Thành")
    assert match.unit is None
    assert {u.code for u in match.candidates} == {"binh_thanh", "binh_thanh_2"}
