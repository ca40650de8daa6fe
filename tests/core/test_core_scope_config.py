"""Issue 17: units in named areas, chats scoped to some units, the summary digest's keys."""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

import pytest

from core.catalogue import Catalogue, ConfigError, build_catalogue
from tests.conftest import CONFIG_PATH

NORTH = ("binh_long", "binh_thuan", "binh_chau")


def _data(chats: dict[str, Any] | None = None) -> dict[str, Any]:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    for unit in data["units"]:
        if unit["code"] in NORTH:
            unit["areas"] = ["Cụm Bắc"]
            unit["province"] = "Quảng Ngãi"
        else:
            unit["district"] = "Khu vực Nam"
    data["chats"].update(chats or {})
    return data


def _with(chats: dict[str, Any]) -> Catalogue:
    return build_catalogue(_data(chats))


def test_units_keep_their_province_and_areas() -> None:
    cat = _with({})
    long = cat.unit("binh_long")
    assert (long.province, long.areas) == ("Quảng Ngãi", ("Cụm Bắc",))
    assert long.area_names == ("Quảng Ngãi", "Cụm Bắc")
    assert cat.unit("chau_o").area("district") == "Khu vực Nam"
    assert cat.unit("chau_o").area("province") is None


def test_a_chat_scoped_by_area_and_unit_code_sees_only_those_units() -> None:
    # An area is matched without regard to case or diacritics; units add to it.
    cat = _with({"cum_bac": {"areas": ["cụm bắc"], "units": ["chau_o"]}})
    chat = cat.chat_by_key("cum_bac")
    assert chat is not None
    assert chat.scope == frozenset({*NORTH, "chau_o"})
    assert chat.scope_name == "cụm bắc, Thị trấn Châu Ổ"
    view = cat.scoped("cum_bac")
    # In the set-up's order, with the whole set-up's chats, people and indicators.
    assert [u.code for u in view.units] == [u.code for u in cat.units if u.code in chat.scope]
    assert view.chats == cat.chats
    assert view.people == cat.people
    assert view.scope == "địa bàn cụm bắc, Thị trấn Châu Ổ"
    assert view.match_unit("Châu Ổ").unit is not None
    assert view.match_unit("Bình An").unit is None
    assert cat.scoped("cum_bac") is view  # built once
    # An unscoped chat (or none) sees the whole set-up, itself.
    assert cat.scoped("nhom_bao_cao") is cat
    assert cat.scoped("") is cat
    assert cat.scope == "toàn huyện"


def test_a_scope_keeps_rate_milestones_and_its_own_units_counts_only() -> None:
    data = _data({"cum_bac": {"areas": ["Cụm Bắc"]}})
    data["indicators"][0]["milestones"] = [
        {"date": date(2024, 7, 31), "count": 80000},
        {"date": date(2024, 8, 31), "rate": 90},
        {"date": date(2024, 7, 31), "count": 3000, "unit": "binh_long"},
        {"date": date(2024, 7, 31), "count": 900, "unit": "chau_o"},
    ]
    cat = build_catalogue(data)
    whole = cat.indicators[0].milestones
    scoped = cat.scoped("cum_bac").indicators[0].milestones
    assert len(whole) == 4
    assert [(m.count, m.rate, m.unit) for m in scoped] == [
        (3000, None, "binh_long"),
        (None, 90, None),
    ]


def test_summary_keys_and_their_defaults() -> None:
    cat = _with(
        {
            "tong_hop": {"digest": "summary", "summary_by": "district", "top": 3},
            "plain": {"kind": "group"},
        }
    )
    summary, plain = cat.chat_by_key("tong_hop"), cat.chat_by_key("plain")
    assert summary is not None
    assert plain is not None
    assert (summary.summary, summary.summary_by, summary.top, summary.scope) == (
        True,
        "district",
        3,
        None,
    )
    assert (plain.summary, plain.digest, plain.summary_by, plain.top) == (
        False,
        "full",
        "province",
        5,
    )


@pytest.mark.parametrize(
    ("chat", "line"),
    [
        (
            {"areas": ["Cụm Tây"]},
            "chats.nhom.areas: địa bàn 'Cụm Tây' không có đơn vị nào (province, district, areas)",
        ),
        (
            {"areas": ["Cụm Bắc"], "units": ["binh_xyz"]},
            "chats.nhom.units: đơn vị 'binh_xyz' không có trong [[units]]",
        ),
        ({"areas": "Cụm Bắc"}, "chats.nhom.areas: phải là danh sách chuỗi"),
        ({"digest": "short"}, 'chats.nhom.digest: phải là "full" hoặc "summary"'),
        ({"summary_by": "commune"}, 'chats.nhom.summary_by: phải là "province" hoặc "district"'),
        ({"top": 0}, "chats.nhom.top: phải là số nguyên từ 1 đến 20"),
        ({"top": "5"}, "chats.nhom.top: phải là số nguyên từ 1 đến 20"),
    ],
)
def test_a_bad_scope_is_one_vietnamese_line_naming_the_key(chat: dict[str, Any], line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _with({"nhom": chat})
    assert str(caught.value) == line
    assert "\n" not in str(caught.value)


def test_a_unit_area_must_be_text() -> None:
    data = _data()
    data["units"][0]["areas"] = [3]
    with pytest.raises(ConfigError) as caught:
        build_catalogue(data)
    assert caught.value.key == "units[0].areas"
