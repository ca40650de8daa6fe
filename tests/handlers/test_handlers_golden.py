"""The golden tables of the 2024 Bình Sơn letter, fed in as reports through the real handler
and storage path, must come back with the printed rates to the digit and in the printed order."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from core.catalogue import Catalogue
from core.chat import Table

# The letter's tables, kept in the repository (tests/data/README.md says where each comes from).
DATA = Path(__file__).resolve().parents[1] / "data"
LABELS = {
    "citizen_id_issued": "Đã cấp CCCD",
    "eid_level2_verified": "Đã xác thực ĐDĐT",
    "eid_activated": "Đã kích hoạt ĐDĐT",
}


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _reports() -> dict[str, dict[str, int]]:
    """Every unit's figures across the four tables, keyed by the unit's printed name."""
    reports: dict[str, dict[str, int]] = {}
    for row in _rows("binh_son_2024_eid.csv"):
        reports.setdefault(row["unit"], {}).update({LABELS[k]: int(row[k]) for k in LABELS})
    for name, total, issued in (
        ("binh_son_2024_id_card_6_14.csv", "Trẻ 6-14 tuổi", "Đã cấp Căn cước 6-14 tuổi"),
        (
            "binh_son_2024_id_card_under_6_partial.csv",
            "Trẻ dưới 6 tuổi",
            "Đã cấp Căn cước dưới 6 tuổi",
        ),
    ):
        for row in _rows(name):
            reports.setdefault(row["unit"], {}).update(
                {total: int(row["total"]), issued: int(row["issued"])}
            )
    for row in _rows("binh_son_2024_non_cash.csv"):
        reports.setdefault(row["unit"], {}).update(
            {
                "Đối tượng BTXH": int(row["btxh_total"]),
                "BTXH chi trả qua tài khoản": int(row["btxh_paid_by_account"]),
                "Đối tượng NCC": int(row["ncc_total"]),
                "NCC chi trả qua tài khoản": int(row["ncc_paid_by_account"]),
            }
        )
    return reports


def _pct(printed: str) -> str:
    """`91.14` as the CSV has it -> `91,14%` as the bot prints it."""
    return printed.replace(".", ",") + "%"


async def _ranking_tables(chat, indicator: str) -> list[Table]:
    """The full table: a leader's private chat (the group gets a phone-narrow one)."""
    replies = await chat.replies("lanh_dao", f"/xephang {indicator}", chat="lanh_dao")
    assert len(replies) == 1
    return [b for b in replies[0].blocks if isinstance(b, Table)]


@pytest.fixture
async def reported(chat, catalogue: Catalogue):
    """All 22 units' reports, sent by the standing office in the group."""
    for unit, values in _reports().items():
        body = "\n".join(f"{label}: {value}" for label, value in values.items())
        answer = await chat.send("thuong_truc", f"/baocao\nĐơn vị: {unit}\n{body}")
        assert "✅ Đã nhận báo cáo tuần 47/2024" in answer, answer
    return chat


def _short(catalogue: Catalogue, printed: str) -> str:
    match = catalogue.match_unit(printed)
    assert match.unit is not None, printed
    return match.unit.short_name


@pytest.mark.parametrize(
    ("indicator", "csv_name", "rate_column"),
    [
        ("Căn cước 6-14", "binh_son_2024_id_card_6_14.csv", "issued_rate_pct"),
        ("Căn cước <6", "binh_son_2024_id_card_under_6_partial.csv", "issued_rate_pct"),
    ],
)
async def test_identity_card_tables_reproduce_order_and_rates(
    reported, catalogue: Catalogue, indicator: str, csv_name: str, rate_column: str
) -> None:
    tables = await _ranking_tables(reported, indicator)
    # The letter's columns: issued, total, "Chưa cấp" (not issued: `counts`), rate.
    assert tables[0].columns[2:6] == ("Đạt", "Tổng", "Chưa cấp", "Tỉ lệ")
    got = [(row[1], row[2], row[3], row[5]) for table in tables for row in table.rows]
    want = [
        (_short(catalogue, r["unit"]), r["issued"], r["total"], _pct(r[rate_column]))
        for r in _rows(csv_name)
    ]
    assert [int(row[4].replace(".", "")) for table in tables for row in table.rows] == [
        int(r["not_issued"]) for r in _rows(csv_name)
    ]
    assert [(u, rate) for u, _, _, rate in got] == [(u, rate) for u, _, _, rate in want]
    assert [(int(n.replace(".", "")), int(d.replace(".", ""))) for _, n, d, _ in got] == [
        (int(n), int(d)) for _, n, d, _ in want
    ]
    # Target 100%: nobody has met it, so every unit is in the "not met" table.
    assert [t.title.split(" (")[0] for t in tables] == ["Đơn vị chưa hoàn thành chỉ tiêu"]


async def test_eid_table_reproduces_order_rates_and_split(reported, catalogue: Catalogue) -> None:
    met, not_met = await _ranking_tables(reported, "Xác thực ĐDĐT")
    rows = _rows("binh_son_2024_eid.csv")
    expected_met = [r for r in rows if r["target_met"] == "yes"]
    expected_not = [r for r in rows if r["target_met"] == "no"]
    assert met.title == f"Đơn vị đã hoàn thành chỉ tiêu ({len(expected_met)})"
    assert not_met.title == f"Đơn vị chưa hoàn thành chỉ tiêu ({len(expected_not)})"
    for table, expected in ((met, expected_met), (not_met, expected_not)):
        assert [row[0] for row in table.rows] == [str(n) for n in range(1, len(expected) + 1)]
        assert [(row[1], row[4], row[5]) for row in table.rows] == [
            (
                _short(catalogue, r["unit"]),
                _pct(r["verified_rate_pct"]),
                _pct(r["activated_rate_pct"]),
            )
            for r in expected
        ]


async def test_non_cash_table_reproduces_combined_and_group_rates(
    reported, catalogue: Catalogue
) -> None:
    met, not_met = await _ranking_tables(reported, "Chi trả KDTM")
    rows = _rows("binh_son_2024_non_cash.csv")
    got = [(r[1], r[4], r[5], r[6]) for table in (met, not_met) for r in table.rows]
    assert got == [
        (
            _short(catalogue, r["unit"]),
            _pct(r["combined_rate_pct"]),
            _pct(r["btxh_rate_pct"]),
            _pct(r["ncc_rate_pct"]),
        )
        for r in rows
    ]
    assert len(met.rows) == sum(r["target_met"] == "yes" for r in rows)
    # Bình Long: (401 + 106) / (440 + 106), the ratio of the sums, not the mean of the rates.
    assert met.rows[0][1:5] == ("Bình Long", "507", "546", "92,86%")
