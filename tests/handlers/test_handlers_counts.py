"""Count columns as the letters print them (issue 16): an indicator's `counts` name fields, or
"remaining" (what is left: "chưa cấp", quota − done), shown between the counts and the rate in
`/xephang` and in the Excel and Word files, so the letter's appendix table comes out column for
column. Through the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Any

import pytest
from docx import Document as WordDocument
from openpyxl import load_workbook

from core.catalogue import ConfigError, build_catalogue
from core.chat import Document
from core.quotas import count_cells
from tests.conftest import CONFIG_PATH, ChatBot
from tests.handlers.test_handlers_golden import _reports, _rows


def _config(counts: list[str]) -> dict[str, Any]:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    for ind in data["indicators"]:
        if ind["code"] == "id_card_6_14":
            ind["counts"] = counts
            del ind["remaining_label"]
    return data


@pytest.fixture
async def reported(chat: ChatBot, tmp_path: Path) -> ChatBot:
    """The golden figures of all 22 units; the shipped set-up prints "Chưa cấp" beside the
    ID cards, as its letter does."""
    chat.engine.files_dir = tmp_path
    for unit, values in _reports().items():
        body = "\n".join(f"{label}: {value}" for label, value in values.items())
        assert "✅" in await chat.send("thuong_truc", f"/baocao\nĐơn vị: {unit}\n{body}")
    return chat


def _document(chat_replies: list[Any]) -> Path:
    (doc,) = [b for r in chat_replies for b in r.blocks if isinstance(b, Document)]
    return doc.path


async def test_excel_reproduces_the_letters_id_card_table_column_for_column(
    reported: ChatBot,
) -> None:
    path = _document(await reported.replies("lanh_dao", "/xuat xlsx 2024-W47"))
    ws = load_workbook(io.BytesIO(path.read_bytes()))["Căn cước 6-14"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "TT")
    assert header[2:6] == ("Trẻ 6-14 tuổi", "Đã cấp Căn cước 6-14 tuổi", "Chưa cấp", "Đạt tỉ lệ")
    rows = [r for r in ws.iter_rows(values_only=True) if isinstance(r[0], int)]
    golden = _rows("binh_son_2024_id_card_6_14.csv")
    # Total, issued, not issued and the rate of the letter, unit by unit, in its order.
    assert [(r[2], r[3], r[4], round(r[5] * 100, 1)) for r in rows] == [
        (int(g["total"]), int(g["issued"]), int(g["not_issued"]), float(g["issued_rate_pct"]))
        for g in golden
    ]
    total = next(r for r in ws.iter_rows(values_only=True) if r[1] == "Tổng chung")
    assert total[4] == sum(int(g["not_issued"]) for g in golden)


async def test_word_and_xephang_show_the_count_column(reported: ChatBot) -> None:
    path = _document(await reported.replies("lanh_dao", "/xuat docx 2024-W47"))
    word = WordDocument(str(path))
    headers = [[c.text for c in t.rows[0].cells] for t in word.tables]
    assert any("Chưa cấp" in h for h in headers)
    assert any("612" in [c.text for c in row.cells] for t in word.tables for row in t.rows)
    table = await reported.send("lanh_dao", "/xephang căn cước 6-14", "dm", "private")
    # Bình Long: 286 of 898 issued, 612 not yet.
    line = next(line for line in table.splitlines() if "Bình Long" in line)
    assert line.split()[3:7] == ["286", "898", "612", "31,8%"]
    assert "Chưa cấp" in table


def test_remaining_is_never_below_zero_past_a_quota() -> None:
    assert count_cells(["remaining", "a", "b"], {"a": 5}, 4454, 4000) == [0, 5, None]
    assert count_cells(["remaining"], {}, 286, 898) == [612]


def test_a_count_that_is_not_a_field_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"indicators\[4\]\.counts: 'chua_lam' không phải"):
        build_catalogue(_config(["chua_lam"]))
    fields = build_catalogue(_config(["child_6_14_total", "remaining"]))
    assert fields.indicator("id_card_6_14").counts == (
        ("child_6_14_total", "Trẻ 6-14 tuổi"),
        ("remaining", "Chưa làm"),  # the default header
    )
