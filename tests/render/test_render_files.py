"""The workbook, the CSV and the Word draft read back: the golden tables of the 2024 Bình Sơn
letter come out with the printed rates to the digit, in the printed order and sections."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from core.catalogue import Catalogue
from core.periods import Period
from core.submission import Sender, Submission
from render.docx import docx_bytes
from render.excel import csv_bytes, sheet_title, workbook_bytes
from render.report import WeeklyReport, build_report
from tests.handlers.test_handlers_golden import _rows
from tests.render.test_render_charts import golden_values

W47 = Period(2024, 47)
SENT = datetime(2024, 11, 17, 2, 0, tzinfo=UTC)


def _report(catalogue: Catalogue) -> WeeklyReport:
    values = golden_values(catalogue)
    sender = Sender("sim", "thuong_truc", "Thường trực")
    subs = [
        Submission(code, W47.key, 1, v, code == "binh_hai", SENT, sender)
        for code, v in values.items()
    ]
    # Bình Long first sent a mistaken figure: version 1, then the golden one as version 2.
    old = dict(values["binh_long"], eid_verified=4000)
    versions = [
        *(s for s in subs if s.unit != "binh_long"),
        Submission("binh_long", W47.key, 1, old, False, SENT, sender, current=False),
        Submission("binh_long", W47.key, 2, values["binh_long"], False, SENT, sender),
    ]
    current = [s for s in versions if s.current]
    previous = {code: {k: v - 10 for k, v in vals.items()} for code, vals in values.items()}
    # Three weeks: a pace needs three reports (core.pace.MIN_PACE_POINTS).
    before = {code: {k: v - 20 for k, v in vals.items()} for code, vals in values.items()}
    series = [
        (date(2024, 11, 4), before),
        (date(2024, 11, 11), previous),
        (date(2024, 11, 18), values),
    ]
    return build_report(catalogue, W47, current, previous, versions, series, date(2024, 11, 18))


@pytest.fixture(scope="module")
def workbook(catalogue: Catalogue):
    return load_workbook(io.BytesIO(workbook_bytes(_report(catalogue))))


def _sections(ws: Worksheet) -> dict[str, list[tuple[object, ...]]]:
    """Rows under each section title (a row with only its first cell filled)."""
    out: dict[str, list[tuple[object, ...]]] = {}
    current = None
    for row in ws.iter_rows(values_only=True):
        if isinstance(row[0], str) and "hoàn thành chỉ tiêu" in row[0]:
            current = row[0]
            out[current] = []
        elif current and isinstance(row[0], int):
            out[current].append(row)
    return out


def _rate(printed: str) -> float:
    return float(Decimal(printed) / 100)


def test_one_sheet_per_indicator_then_raw_values_and_history(workbook) -> None:
    assert workbook.sheetnames == [
        "Chi trả KDTM",
        "Căn cước <6",
        "Căn cước 6-14",
        "Xác thực ĐDĐT",
        "Kích hoạt ĐDĐT",
        "Người lao động",
        "Số liệu gốc",
        "Lịch sử phiên bản",
    ]


def test_eid_sheet_reproduces_the_golden_table(workbook, catalogue: Catalogue) -> None:
    ws = workbook["Xác thực ĐDĐT"]
    rows = _rows("binh_son_2024_eid.csv")
    sections = _sections(ws)
    met = [r for r in rows if r["target_met"] == "yes"]
    not_met = [r for r in rows if r["target_met"] == "no"]
    assert list(sections) == [
        f"Đơn vị đã hoàn thành chỉ tiêu ({len(met)})",
        f"Đơn vị chưa hoàn thành chỉ tiêu ({len(not_met)})",
    ]
    for got, want in zip(sections.values(), (met, not_met), strict=True):
        # TT restarts in each section, as in the letter.
        assert [r[0] for r in got] == list(range(1, len(want) + 1))
        assert [catalogue.match_unit(str(r[1])).unit for r in got] == [
            catalogue.match_unit(w["unit"]).unit for w in want
        ]
        # Columns: issued, verified, rate; then the side column activated / verified.
        assert [r[2:8] for r in got] == [
            (
                int(w["citizen_id_issued"]),
                int(w["eid_level2_verified"]),
                _rate(w["verified_rate_pct"]),
                int(w["eid_level2_verified"]),
                int(w["eid_activated"]),
                _rate(w["activated_rate_pct"]),
            )
            for w in want
        ]


def test_headers_formats_and_frozen_panes(workbook) -> None:
    ws = workbook["Xác thực ĐDĐT"]
    assert ws["A1"].value == "Tỉ lệ xác thực định danh điện tử mức 2"
    assert ws["A2"].value.startswith("Tuần 47/2024")
    # TT and Đơn vị span both header rows; the groups span their three columns.
    assert [c.value for c in ws[3]][:8] == [
        "TT",
        "Đơn vị",
        "Xác thực ĐDĐT",
        None,
        None,
        "Kích hoạt ĐDĐT",
        None,
        None,
    ]
    assert ws[3][8].value == "Thay đổi so với tuần trước (điểm %)"
    assert {str(r) for r in ws.merged_cells.ranges} >= {"A3:A4", "B3:B4", "C3:E3", "I3:I4"}
    assert [c.value for c in ws[4]][:5] == [
        None,
        None,
        "Đã cấp CCCD",
        "Đã xác thực ĐDĐT",
        "Đạt tỉ lệ",
    ]
    assert ws.freeze_panes == "C5"
    first = 6  # row 5 is the first section title
    assert ws.cell(first, 3).number_format == "#,##0"
    assert ws.cell(first, 5).number_format == "0.00%"
    assert ws.cell(first, 9).number_format == "+0.00;-0.00;0.00"
    # Bình An: 2.549/2.992 = 85,19% last week, 85,24% now.
    assert ws.cell(first, 9).value == pytest.approx(0.05)
    assert ws.column_dimensions["B"].width >= len("Thị trấn Châu Ổ")
    # One decimal where the letter prints one.
    ws = workbook["Căn cước 6-14"]
    assert ws.freeze_panes == "C4"  # no side columns: one header row
    assert ws.cell(5, 6).number_format == "0.0%"  # after the "Chưa cấp" count


def test_identity_card_sheets_reproduce_the_golden_rates(workbook, catalogue: Catalogue) -> None:
    for sheet, name in (
        ("Căn cước 6-14", "binh_son_2024_id_card_6_14.csv"),
        ("Căn cước <6", "binh_son_2024_id_card_under_6_partial.csv"),
    ):
        (title, got), *rest = _sections(workbook[sheet]).items()
        want = _rows(name)
        assert not rest
        assert title == f"Đơn vị chưa hoàn thành chỉ tiêu ({len(want)})"
        # Column for column as the letter prints it: total, issued, not issued, rate.
        assert [(r[2], r[3], r[4], r[5]) for r in got] == [
            (int(w["total"]), int(w["issued"]), int(w["not_issued"]), _rate(w["issued_rate_pct"]))
            for w in want
        ]


def test_non_cash_sheet_has_the_groups_and_the_ratio_of_sums(workbook) -> None:
    ws = workbook["Chi trả KDTM"]
    rows = _rows("binh_son_2024_non_cash.csv")
    got = [r for section in _sections(ws).values() for r in section]
    assert [(r[4], r[7], r[10]) for r in got] == [
        (_rate(w["combined_rate_pct"]), _rate(w["btxh_rate_pct"]), _rate(w["ncc_rate_pct"]))
        for w in rows
    ]
    assert got[0][1] == "Xã Bình Long"
    assert got[0][2:5] == (546, 507, 0.9286)
    total = next(r for r in ws.iter_rows(values_only=True) if r[1] == "Tổng chung")
    assert total[2:4] == (
        sum(int(w["btxh_total"]) + int(w["ncc_total"]) for w in rows),
        sum(int(w["btxh_paid_by_account"]) + int(w["ncc_paid_by_account"]) for w in rows),
    )
    notes = [r[0] for r in ws.iter_rows(values_only=True) if str(r[0]).startswith("Chưa có")]
    assert len(notes) == 1
    assert "Xã Bình An" in notes[0]  # 7 communes have no non-cash figures


def test_raw_and_history_sheets(workbook) -> None:
    raw = list(workbook["Số liệu gốc"].iter_rows(values_only=True))
    assert raw[0][:5] == ("Đơn vị", "Tuần", "Thời điểm gửi", "Người gửi", "Trễ hạn")
    assert len(raw) == 1 + 22
    hai = next(r for r in raw if r[0] == "Xã Bình Hải")
    # Excel has no time zones: the office's wall-clock time, 09:00 in Asia/Ho_Chi_Minh.
    assert hai[2] == SENT.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)
    assert hai[2].hour == 9
    assert hai[4] == "Có"
    verified = raw[0].index("Đã xác thực ĐDĐT")
    long_row = next(r for r in raw if r[0] == "Xã Bình Long")
    assert long_row[verified] == 5014
    history = list(workbook["Lịch sử phiên bản"].iter_rows(values_only=True))
    assert len(history) == 1 + 23
    versions = [r for r in history if r[0] == "Xã Bình Long"]
    assert [(r[2], r[3], r[history[0].index("Đã xác thực ĐDĐT")]) for r in versions] == [
        (1, None, 4000),
        (2, "Có", 5014),
    ]


def test_sheet_titles_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_title("Tỉ lệ a/b: [x]", taken) == "Tỉ lệ a-b- -x-"
    long = "Tỉ lệ xác thực định danh điện tử mức 2 của toàn huyện"
    first, second = sheet_title(long, taken), sheet_title(long, taken)
    assert len(first) == len(second) == 31
    assert first != second


def test_csv_lists_every_ranked_row(catalogue: Catalogue) -> None:
    data = csv_bytes(_report(catalogue))
    assert data.startswith("\ufeff".encode())
    # As Vietnamese Excel reads it: Vietnamese headers, semicolons, decimal commas.
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == (
        "Mã chỉ tiêu;Chỉ tiêu;Nhóm;TT;Đơn vị;Đạt;Tổng;Tỉ lệ (%);Đạt chỉ tiêu;Thay đổi (điểm %)"
    )
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    eid = [r for r in rows if r["Mã chỉ tiêu"] == "eid_verified"]
    golden = _rows("binh_son_2024_eid.csv")
    assert eid[0]["Tỉ lệ (%)"] == "85,24"
    # The golden tables' dot decimals and yes/no, from the CSV's comma and có/không.
    assert [r["Tỉ lệ (%)"].replace(",", ".") for r in eid] == [
        g["verified_rate_pct"] for g in golden
    ]
    met = {"có": "yes", "không": "no"}
    assert [met[r["Đạt chỉ tiêu"]] for r in eid] == [g["target_met"] for g in golden]
    assert eid[0]["Nhóm"] == "Đơn vị đã hoàn thành chỉ tiêu (8)"
    assert eid[0]["Chỉ tiêu"] == "Xác thực ĐDĐT"


def test_docx_draft_has_the_letterhead_sections_and_tables(catalogue: Catalogue) -> None:
    doc = Document(io.BytesIO(docx_bytes(_report(catalogue), date(2024, 11, 18))))
    head = doc.tables[0]
    left, right = (cell.text for cell in head.rows[0].cells)
    assert "CÔNG AN HUYỆN BÌNH SƠN" in left
    assert "THƯỜNG TRỰC TỔ CÔNG TÁC ĐỀ ÁN 06" in left
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right
    assert "Bình Sơn, ngày 18 tháng 11 năm 2024" in right
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "BÁO CÁO" in text
    assert "tuần 47/2024" in text
    assert "Có 22/22 đơn vị đã báo cáo (21 đúng hạn, 1 trễ hạn)" in text
    assert "Đơn vị báo cáo trễ hạn: Xã Bình Hải." in text
    assert "1. Tỉ lệ chi trả không dùng tiền mặt (BTXH và NCC) (chỉ tiêu 40%" in text
    assert "4.1. Các đơn vị đã hoàn thành chỉ tiêu (8)" in text
    assert "4.2. Các đơn vị chưa hoàn thành chỉ tiêu (14)" in text
    # The eid tables: after the letterhead, the two non-cash, two identity-card ones (one
    # each: nobody met 100%), then met / not met of the verification rate.
    tables = doc.tables[1:-1]
    eid_met, eid_not = tables[4], tables[5]
    golden = _rows("binh_son_2024_eid.csv")
    # Two header rows: the groups (Xác thực ĐDĐT, Kích hoạt ĐDĐT), then the columns.
    assert [c.text for c in eid_met.rows[0].cells][:3] == ["TT", "Đơn vị", "Xác thực ĐDĐT"]
    assert eid_met.rows[0].cells[5].text == "Kích hoạt ĐDĐT"
    assert [c.text for c in eid_met.rows[1].cells][2:5] == [
        "Đã cấp CCCD",
        "Đã xác thực ĐDĐT",
        "Đạt tỉ lệ",
    ]
    assert [r.cells[1].text for r in eid_met.rows[2:]] == [
        catalogue.match_unit(g["unit"]).unit.name for g in golden if g["target_met"] == "yes"
    ]
    assert eid_met.rows[2].cells[4].text == "85,24%"
    assert eid_met.rows[2].cells[2].text == "3.002"
    assert eid_not.rows[-1].cells[4].text == "76,16%"
    assert "Tổng chung: 137.364/173.391 = 79,22%" in text
    # Pace: each unit rose by 10 a week, far too slow for the units short of the target.
    assert "nguy cơ không đạt chỉ tiêu đúng hạn: " in text
    assert "THƯỜNG TRỰC TỔ CÔNG TÁC" in doc.tables[-1].rows[0].cells[1].text
