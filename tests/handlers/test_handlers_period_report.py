"""/xuat for a month, a quarter and a year, through the real engine and storage: the figures
of the drafts equal the weekly data they come from (computed here from the figures sent, the
golden CSVs and the weekly draft, not by the code under test), the late counts, the
milestones, and the refusals that write nothing."""

from __future__ import annotations

import io
from collections.abc import Collection
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document as WordDocument
from openpyxl import load_workbook

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Document, Reply
from core.periods import Period
from tests.handlers.test_handlers_golden import _reports, _rows

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# The numerators: lowered by a few people in earlier weeks, so each week's rates differ.
NUMERATORS = (
    "Đã xác thực ĐDĐT",
    "Đã kích hoạt ĐDĐT",
    "Đã cấp Căn cước 6-14 tuổi",
    "Đã cấp Căn cước dưới 6 tuổi",
    "BTXH chi trả qua tài khoản",
    "NCC chi trả qua tài khoản",
)
VERIFIED = ("Đã xác thực ĐDĐT", "Đã cấp CCCD")  # numerator, denominator of eid_verified


def _figures(offset: int) -> dict[str, dict[str, int]]:
    """The golden figures (week 48's), `offset` people fewer per numerator in earlier weeks."""
    out = {}
    for unit, values in _reports().items():
        out[unit] = {
            label: value - offset if label in NUMERATORS and value >= 20 else value
            for label, value in values.items()
        }
    return out


async def _report_week(
    chat,
    catalogue: Catalogue,
    week: Period,
    figures: dict[str, dict[str, int]],
    late: Collection[str] = (),
    skip: Collection[str] = (),
) -> None:
    """Every unit's report for `week` (unit codes in `skip` send none): on time on the
    Saturday before the due Monday, or (`late`) two hours after the due time."""
    due = datetime.combine(week.monday, time(10, 0), tzinfo=VN)
    on_time = due - timedelta(days=2)
    sent = {"on": 0, "late": 0}
    items = sorted(
        figures.items(), key=lambda item: catalogue.match_unit(item[0]).unit.code in late
    )
    for name, values in items:
        code = catalogue.match_unit(name).unit.code
        if code in skip:
            continue
        kind = "late" if code in late else "on"
        base = due + timedelta(hours=2) if code in late else on_time
        chat.now = base + timedelta(minutes=4 * sent[kind])
        sent[kind] += 1
        body = "\n".join(f"{label}: {value}" for label, value in values.items())
        answer = await chat.send("thuong_truc", f"/baocao\nĐơn vị: {name}\n{body}")
        assert f"Đã nhận báo cáo {week.label}" in answer, answer
        assert ("nộp muộn" in answer.split("\n")[0]) == (code in late), answer


def _rate(num: int, den: int, decimals: int = 2) -> Decimal:
    exp = Decimal(1).scaleb(-decimals)
    return (Decimal(num * 100) / Decimal(den)).quantize(exp, rounding=ROUND_HALF_UP)


def _pct(rate: Decimal) -> str:
    return f"{rate}".replace(".", ",") + "%"


def _int(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _change(points: Decimal) -> str:
    sign = "+" if points > 0 else "−" if points < 0 else "±"
    return sign + f"{abs(points)}".replace(".", ",")


def _documents(replies: list[Reply]) -> list[Document]:
    return [b for r in replies for b in r.blocks if isinstance(b, Document)]


def _ranking_rows(path: Path, group: str) -> list[list[str]]:
    """The data rows of a draft's ranked tables whose header names `group`, in order."""
    word = WordDocument(str(path))
    rows = []
    for table in word.tables:
        head = [c.text for c in table.rows[0].cells]
        if len(head) > 2 and head[2] == group:
            rows += [[c.text for c in r.cells] for r in table.rows[2:]]
    return rows


def _texts(path: Path) -> list[str]:
    return [p.text for p in WordDocument(str(path)).paragraphs]


@pytest.fixture
def files(chat, tmp_path: Path):
    chat.engine.files_dir = tmp_path / "files"
    return chat


@pytest.fixture
async def november(files, catalogue: Catalogue):
    """Weeks 45 to 48 of 2024 (due on the Mondays 4, 11, 18 and 25 November): Bình Long
    late in weeks 45 and 46, Bình Thuận late in week 47, Bình An silent in week 46."""
    for n, week in enumerate(range(45, 49)):
        period = Period(2024, week)
        late = {45: {"binh_long"}, 46: {"binh_long"}, 47: {"binh_thuan"}}.get(week, set())
        skip = {"binh_an"} if week == 46 else set()
        await _report_week(files, catalogue, period, _figures(2 * (3 - n)), late, skip)
    files.now = datetime(2024, 12, 3, 9, 0, tzinfo=VN)
    return files


async def test_monthly_draft_end_figures_equal_the_weekly_table_of_its_last_week(
    november, catalogue: Catalogue
) -> None:
    (month,) = _documents(await november.replies("lanh_dao", "/xuat docx thang 11/2024"))
    assert month.path.name == "bao_cao_2024-11.docx"
    assert month.caption == "📎 Dự thảo báo cáo (Word) tháng 11/2024"
    (week,) = _documents(await november.replies("lanh_dao", "/xuat docx 2024-W48"))
    monthly = _ranking_rows(month.path, "Xác thực ĐDĐT")
    weekly = _ranking_rows(week.path, "Xác thực ĐDĐT")
    assert len(monthly) == 22
    # To the digit: order, counts and rates; only the change column differs.
    assert [r[:-1] for r in monthly] == [r[:-1] for r in weekly]
    golden = _rows("binh_son_2024_eid.csv")
    assert [catalogue.match_unit(r[1]).unit for r in monthly] == [
        catalogue.match_unit(g["unit"]).unit for g in golden
    ]
    assert [r[4] for r in monthly] == [_pct(Decimal(g["verified_rate_pct"])) for g in golden]
    # The change over the month: from each unit's first report of it (nothing before).
    first = _figures(6)
    end = _figures(0)
    for row in monthly:
        name = next(n for n in end if catalogue.match_unit(n).unit.name == row[1])
        before = _rate(first[name][VERIFIED[0]], first[name][VERIFIED[1]])
        after = _rate(end[name][VERIFIED[0]], end[name][VERIFIED[1]])
        assert row[4] == _pct(after)
        assert row[-1] == _change(after - before), row


async def test_monthly_draft_says_who_was_late_and_how_often(november) -> None:
    (month,) = _documents(await november.replies("lanh_dao", "/xuat word tháng 11/2024"))
    texts = _texts(month.path)
    assert "BÁO CÁO" in texts
    assert (
        "Kết quả thực hiện các chỉ tiêu Đề án 06 tháng 11/2024 (số liệu đến 10:00 25/11/2024)"
        in texts
    )
    assert (
        "Trong kỳ có 4 kỳ báo cáo tuần; 19/22 đơn vị báo cáo đầy đủ, đúng hạn tất cả các tuần."
        in texts
    )
    assert (
        "Đơn vị báo cáo trễ hạn: Xã Bình Long (2/4 tuần: 45, 46); Xã Bình Thuận (1/4 tuần: 47)."
        in texts
    )
    assert "Đơn vị không báo cáo một số tuần: Xã Bình An (1/4 tuần: 46)." in texts
    # The area's figures at the end, as the weekly data sums them (ratio of the sums).
    end = _figures(0)
    num = sum(v[VERIFIED[0]] for v in end.values())
    den = sum(v[VERIFIED[1]] for v in end.values())
    first = _figures(6)
    start = _rate(
        sum(v[VERIFIED[0]] for v in first.values()), sum(v[VERIFIED[1]] for v in first.values())
    )
    change = _rate(num, den) - start
    shown = f"{change}".replace(".", ",")
    assert (
        f"Tính đến 25/11/2024, toàn huyện đạt {_int(num)}/{_int(den)}"
        f" ({_pct(_rate(num, den))}), tăng {shown} điểm % so với tuần đầu kỳ."
    ) in texts


async def test_monthly_workbook_has_the_same_figures_and_late_counts(
    november, catalogue: Catalogue
) -> None:
    (book,) = _documents(await november.replies("lanh_dao", "/xuat xlsx thang 11"))
    assert book.path.name == "bao_cao_2024-11.xlsx"
    wb = load_workbook(io.BytesIO(book.path.read_bytes()))
    ws = wb["Xác thực ĐDĐT"]
    assert ws["A2"].value.startswith("Tháng 11/2024")
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if isinstance(r[0], int)]
    golden = _rows("binh_son_2024_eid.csv")
    assert [round(r[4] * 100, 2) for r in rows] == [float(g["verified_rate_pct"]) for g in golden]
    late = {
        r[0]: (r[1], r[3]) for r in wb["Tình hình báo cáo"].iter_rows(min_row=2, values_only=True)
    }
    assert late == {"Xã Bình Long": (2, 0), "Xã Bình Thuận": (1, 0), "Xã Bình An": (0, 1)}
    end = {r[0]: r[1] for r in wb["Số liệu cuối kỳ"].iter_rows(min_row=2, values_only=True)}
    assert set(end.values()) == {"2024-W48"}
    assert len(end) == 22


@pytest.fixture
async def fourth_quarter(files, catalogue: Catalogue):
    """Week 40 (due Monday 30 September: the third quarter's last week), week 44 and week
    48 (the fourth quarter's), Bình Trị silent in week 48."""
    await _report_week(files, catalogue, Period(2024, 40), _figures(8))
    await _report_week(files, catalogue, Period(2024, 44), _figures(4))
    await _report_week(files, catalogue, Period(2024, 48), _figures(0), skip={"binh_tri"})
    files.now = datetime(2025, 1, 6, 9, 0, tzinfo=VN)
    return files


async def test_quarterly_draft_carries_a_silent_unit_and_counts_from_the_last_quarter(
    fourth_quarter, catalogue: Catalogue
) -> None:
    (doc,) = _documents(await fourth_quarter.replies("lanh_dao", "/xuat docx quý 4/2024"))
    assert doc.path.name == "bao_cao_2024-Q4.docx"
    texts = _texts(doc.path)
    assert any("quý IV/2024 (số liệu đến 10:00 30/12/2024)" in t for t in texts)
    # The quarter's weeks are those due 7/10 to 30/12: 13 of them (week 1 of 2025 included).
    assert any("(13 kỳ báo cáo, từ tuần 41/2024 đến tuần 1/2025)" in t for t in texts)
    assert (
        "Số liệu cuối kỳ lấy từ báo cáo gần nhất của đơn vị không báo cáo tuần cuối: "
        "Xã Bình An (tuần 48/2024); Xã Bình Chánh (tuần 48/2024)"
        in next(t for t in texts if t.startswith("Số liệu cuối kỳ"))
    )
    figures = {catalogue.match_unit(name).unit.name: values for name, values in _figures(0).items()}
    week44 = {catalogue.match_unit(n).unit.name: v for n, v in _figures(4).items()}
    week40 = {catalogue.match_unit(n).unit.name: v for n, v in _figures(8).items()}
    figures["Xã Bình Trị"] = week44["Xã Bình Trị"]  # its last report
    rows = _ranking_rows(doc.path, "Xác thực ĐDĐT")
    expected = sorted(
        figures,
        key=lambda u: (
            -Decimal(figures[u][VERIFIED[0]]) / Decimal(figures[u][VERIFIED[1]]),
            u,
        ),
    )
    assert [r[1] for r in rows] == expected
    for row in rows:
        end, start = figures[row[1]], week40[row[1]]
        after = _rate(end[VERIFIED[0]], end[VERIFIED[1]])
        before = _rate(start[VERIFIED[0]], start[VERIFIED[1]])
        assert row[3] == _int(end[VERIFIED[0]])
        assert row[4] == _pct(after)
        assert row[-1] == _change(after - before), row
    # The 80 % target at its deadline (31/12/2024), by the figures reported by then.
    met = [u for u in expected if figures[u][VERIFIED[0]] * 100 >= 80 * figures[u][VERIFIED[1]]]
    missed = [u for u in catalogue.active_units if u.name not in met]
    line = next(t for t in texts if t.startswith("– Mốc 80% đến 31/12/2024"))
    assert f"; {len(met)} đơn vị đạt; {len(missed)} đơn vị chưa đạt: " in line
    assert line.endswith(", ".join(u.name for u in missed) + ".")
    missing = next(t for t in texts if t.startswith("Đơn vị không"))
    assert "Xã Bình Trị (12/13 tuần: 41, 42, 43, 45, 46, 47, 48, 49, 50, 51, 52, 1/2025)" in missing


async def test_a_year_and_csv(fourth_quarter) -> None:
    (doc,) = _documents(await fourth_quarter.replies("lanh_dao", "/xuat csv nam 2024"))
    assert doc.path.name == "bao_cao_2024.csv"
    lines = doc.path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Mã chỉ tiêu;Chỉ tiêu;Nhóm;TT")
    assert sum(1 for line in lines if line.startswith("eid_verified;")) == 22


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/xuat docx thang 13/2024", msg.export_period_unknown("thang 13/2024")),
        ("/xuat docx quy 5", msg.export_period_unknown("quy 5")),
        ("/xuat xlsx nam 24", msg.export_period_unknown("nam 24")),
        ("/xuat docx thang", msg.export_period_unknown("thang")),
        ("/xuat docx tháng 1/2025", msg.export_period_future("tháng 1/2025")),
        ("/xuat docx năm 2030", msg.export_period_future("năm 2030")),
        ("/xuat docx thang 10/2024", msg.no_reports_in("tháng 10/2024")),
        ("/xuat docx thang 12", msg.no_reports_in("tháng 12/2024")),
        ("/xuat pdf thang 11/2024", msg.export_format_unknown("pdf")),
    ],
)
async def test_refusals_write_nothing(november, command: str, answer: str) -> None:
    assert await november.send("lanh_dao", command) == answer
    assert not november.engine.files_dir.exists()


async def test_officers_may_not_export_a_month(november) -> None:
    answer = await november.send("cb_binh_long", "/xuat docx thang 11/2024")
    assert answer == msg.FILES_LEADERS_ONLY
    assert not november.engine.files_dir.exists()
