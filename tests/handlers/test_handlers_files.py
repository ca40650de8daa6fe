"""/bieudo and /xuat through the real engine and storage: who may ask, what comes back, and
the golden tables in the exported workbook."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document as WordDocument
from openpyxl import load_workbook

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Document, Photo, Reply
from tests.handlers.test_handlers_golden import _reports, _rows

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def files(chat, tmp_path: Path):
    chat.engine.files_dir = tmp_path / "files"
    return chat


@pytest.fixture
async def reported(files):
    """The golden figures of all 22 units, reported by the standing office for week 47."""
    for unit, values in _reports().items():
        body = "\n".join(f"{label}: {value}" for label, value in values.items())
        await files.send("thuong_truc", f"/baocao\nĐơn vị: {unit}\n{body}")
    return files


def _blocks(replies: list[Reply], kind: type) -> list:
    return [b for r in replies for b in r.blocks if isinstance(b, kind)]


@pytest.mark.parametrize("command", ["/bieudo", "/chart Xác thực ĐDĐT", "/xuat", "/export docx"])
async def test_officers_are_refused_clearly(files, command: str) -> None:
    answer = await files.send("cb_binh_long", command)
    wanted = (
        msg.CHARTS_LEADERS_ONLY
        if "/bieudo" in command or "/chart" in command
        else (msg.FILES_LEADERS_ONLY)
    )
    assert answer == wanted
    assert not (files.engine.files_dir).exists()


async def test_strangers_are_told_to_register(files) -> None:
    assert await files.send("nguoi_la", "/xuat", chat="nguoi_la") == msg.not_registered()


async def test_ranking_chart_for_one_indicator(reported, tmp_path: Path) -> None:
    replies = await reported.replies("lanh_dao", "/bieudo Xác thực ĐDĐT")
    (photo,) = _blocks(replies, Photo)
    assert photo.path.parent == tmp_path / "files"
    assert photo.path.read_bytes().startswith(PNG)
    assert photo.caption == "Xác thực ĐDĐT — tuần 47/2024"


async def test_every_ranked_indicator_without_arguments(reported) -> None:
    replies = await reported.replies("thuong_truc", "/chart", chat="thuong_truc")
    photos = _blocks(replies, Photo)
    # Five indicators have figures; the worker survey has none and says so.
    assert len(photos) == 5
    assert len({p.path for p in photos}) == 5
    texts = [b.plain for r in replies for b in r.blocks if hasattr(b, "plain")]
    assert texts == [msg.chart_no_data("Người lao động")]


@pytest.mark.parametrize(
    ("command", "stem"),
    [
        ("/bieudo Xác thực ĐDĐT xuhuong", "bieudo_xuhuong_eid_verified_all"),
        ("/bieudo Kích hoạt ĐDĐT Bình Long tiendo", "bieudo_tiendo_eid_activated_binh_long"),
        ("/bieudo Căn cước 6-14 heatmap 2024-W47", "bieudo_nhiet_id_card_6_14_all"),
    ],
)
async def test_other_kinds(reported, command: str, stem: str) -> None:
    (photo,) = _blocks(await reported.replies("lanh_dao", command), Photo)
    assert photo.path.name == f"{stem}_2024-W47.png"
    assert photo.path.read_bytes().startswith(PNG)


async def test_unknown_indicator_or_kind_gets_a_helpful_answer(reported) -> None:
    answer = await reported.send("lanh_dao", "/bieudo Dịch vụ công")
    assert answer.startswith("Không có chỉ tiêu hay đơn vị “Dịch vụ công”")
    assert "Xác thực ĐDĐT" in answer
    assert "xuhuong" in answer
    answer = await reported.send("lanh_dao", "/bieudo Xác thực ĐDĐT hinhtron")
    assert answer == msg.chart_kind_unknown("hinhtron")


async def test_no_reports_yet(files) -> None:
    assert await files.send("lanh_dao", "/xuat") == msg.no_reports_yet("tuần 47/2024")
    assert await files.send("lanh_dao", "/bieudo") == msg.no_reports_yet("tuần 47/2024")


async def test_unknown_export_format(files) -> None:
    assert await files.send("lanh_dao", "/xuat pdf") == msg.export_format_unknown("pdf")


async def test_export_xlsx_reproduces_the_golden_eid_table(
    reported, tmp_path: Path, catalogue: Catalogue
) -> None:
    (doc,) = _blocks(await reported.replies("lanh_dao", "/xuat xlsx 2024-W47"), Document)
    assert doc.path == tmp_path / "files" / "bao_cao_2024-W47.xlsx"
    assert doc.caption == "📎 Bảng Excel tuần 47/2024"
    ws = load_workbook(io.BytesIO(doc.path.read_bytes()))["Xác thực ĐDĐT"]
    units = [r[1] for r in ws.iter_rows(min_row=5, values_only=True) if isinstance(r[0], int)]
    rates = [
        round(r[4] * 100, 2)
        for r in ws.iter_rows(min_row=5, values_only=True)
        if isinstance(r[0], int)
    ]
    golden = _rows("binh_son_2024_eid.csv")
    assert [catalogue.match_unit(u).unit for u in units] == [
        catalogue.match_unit(g["unit"]).unit for g in golden
    ]
    assert rates == [float(g["verified_rate_pct"]) for g in golden]


async def test_export_docx_and_csv(reported) -> None:
    (doc,) = _blocks(await reported.replies("thuong_truc", "/export docx"), Document)
    word = WordDocument(str(doc.path))
    assert any("tuần 47/2024" in p.text for p in word.paragraphs)
    (sheet,) = _blocks(await reported.replies("lanh_dao", "/xuat csv"), Document)
    assert sheet.path.read_text(encoding="utf-8-sig").startswith("Mã chỉ tiêu;Chỉ tiêu;Nhóm;TT")


async def test_help_lists_charts_and_files_for_leaders_only(files) -> None:
    leader = await files.send("lanh_dao", "/huongdan")
    assert "/bieudo" in leader
    assert "/xuat" in leader
    officer = await files.send("cb_binh_long", "/huongdan")
    assert "/bieudo" not in officer


async def test_ranking_photos_for_the_digest(
    reported, tmp_path: Path, catalogue: Catalogue
) -> None:
    from core.periods import Period
    from handlers.digest import build_digest
    from handlers.files import ranking_photos

    week = Period(2024, 47)
    async with reported.engine.db.unit_of_work() as uow:
        digest = await build_digest(catalogue, uow, week, catalogue.calendar.due_at(week))
    photos = await ranking_photos(catalogue, digest.rankings, week, tmp_path / "digest")
    # One image per ranked indicator with figures (the worker survey has none).
    assert [p.path.name for p in photos] == [
        f"bieudo_xephang_{code}_all_2024-W47.png"
        for code in ("non_cash", "id_card_u6", "id_card_6_14", "eid_verified", "eid_activated")
    ]
    assert all(p.path.read_bytes().startswith(PNG) for p in photos)
