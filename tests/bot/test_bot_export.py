"""`python -m bot export` and the demo's charts and files, as a user runs them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        input="",
        env=dict(os.environ),
        check=False,
    )


def test_demo_writes_charts_and_files_then_export_reads_the_same_database(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    out = tmp_path / "out"
    demo = _run("demo", "--db", db, "--out", str(out))
    assert demo.returncode == 0, demo.stderr
    pngs = sorted(p.name for p in out.glob("*.png"))
    # The leader's four kinds, and the ranking of every indicator in both weekly digests.
    ranked = ("non_cash", "id_card_u6", "id_card_6_14", "eid_verified", "eid_activated")
    assert pngs == sorted(
        {
            "bieudo_nhiet_eid_verified_all_2024-W47.png",
            "bieudo_tiendo_eid_verified_all_2024-W47.png",
            "bieudo_xuhuong_eid_verified_all_2024-W47.png",
            *(f"bieudo_xephang_{i}_all_2024-W{w}.png" for i in ranked for w in (46, 47)),
        }
    )
    for name in ("xlsx", "docx", "csv"):
        assert (out / f"bao_cao_2024-W47.{name}").stat().st_size > 0

    target = tmp_path / "w47.xlsx"
    result = _run(
        "export", "--period", "2024-W47", "--format", "xlsx", "--out", str(target), "--db", db
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target)
    ws = load_workbook(io.BytesIO(target.read_bytes()))["Xác thực ĐDĐT"]
    assert ws["A1"].value == "Tỉ lệ xác thực định danh điện tử mức 2"

    result = _run(
        "export", "--period", "47/2024", "--format", "docx", "--out", str(tmp_path), "--db", db
    )
    assert result.returncode == 0, result.stderr
    word = Document(str(tmp_path / "bao_cao_2024-W47.docx"))
    assert any(p.text == "BÁO CÁO" for p in word.paragraphs)


def test_export_refuses_a_bad_period_and_an_empty_week(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    bad = _run("export", "--period", "tuần sau", "--out", str(tmp_path / "x.xlsx"), "--db", db)
    assert bad.returncode == 2
    assert "không phải một tuần" in bad.stderr
    empty = _run("export", "--period", "2024-W45", "--out", str(tmp_path / "x.xlsx"), "--db", db)
    assert empty.returncode == 1
    assert "Chưa có báo cáo nào cho tuần 45/2024." in empty.stderr
    assert not (tmp_path / "x.xlsx").exists()


async def test_export_a_month_a_quarter_and_a_year(tmp_path: Path, catalogue) -> None:
    """`--month`, `--quarter`, `--year` write the drafts from the weeks due in the period;
    an unreadable, a future or an empty period is one line and no file."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from core.periods import Period
    from handlers.engine import Engine
    from storage import Database
    from tests.conftest import ChatBot

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    url = f"sqlite:///{tmp_path / 'months.db'}"
    db = await Database.open(url)
    try:
        chat = ChatBot(Engine(catalogue, db))
        # Bình Long reports weeks 45 to 48 (on time, 48 late); Châu Ổ only week 46.
        for week, verified in ((45, 5000), (46, 5010), (47, 5020), (48, 5030)):
            due = datetime.combine(Period(2024, week).monday, time(10, 0), tzinfo=vn)
            chat.now = due + timedelta(hours=1) if week == 48 else due - timedelta(days=1)
            body = (
                f"Đã cấp CCCD: 6352\nĐã xác thực ĐDĐT: {verified}\nĐã kích hoạt ĐDĐT: 4400\n"
                "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 280"
            )
            answer = await chat.send("thuong_truc", f"/baocao\nĐơn vị: Bình Long\n{body}")
            assert "Đã nhận báo cáo" in answer, answer
            if week == 46:
                body = (
                    "Đã cấp CCCD: 1000\nĐã xác thực ĐDĐT: 900\nĐã kích hoạt ĐDĐT: 850\n"
                    "Trẻ 6-14 tuổi: 200\nĐã cấp Căn cước 6-14 tuổi: 100"
                )
                answer = await chat.send("thuong_truc", f"/baocao\nĐơn vị: Châu Ổ\n{body}")
                assert "Đã nhận báo cáo" in answer, answer
    finally:
        await db.close()

    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "export", *args, "--db", url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=False,
        )

    month = run("--month", "2024-11", "--format", "docx", "--out", str(tmp_path))
    assert month.returncode == 0, month.stderr
    assert month.stdout.strip() == str(tmp_path / "bao_cao_2024-11.docx")
    texts = [p.text for p in Document(str(tmp_path / "bao_cao_2024-11.docx")).paragraphs]
    assert "Đơn vị báo cáo trễ hạn: Xã Bình Long (1/4 tuần: 48)." in texts
    # Bình Long 5.030 and Châu Ổ's week 46 (carried) 900, of 6.352 + 1.000 cards.
    assert any(
        t.startswith("Tính đến 25/11/2024, toàn huyện đạt 5.930/7.352 (80,66%)") for t in texts
    )
    assert "Thị trấn Châu Ổ (tuần 46/2024)" in next(t for t in texts if "cuối kỳ lấy" in t)

    quarter = run("--quarter", "2024-Q4", "--out", str(tmp_path / "q4.xlsx"))
    assert quarter.returncode == 0, quarter.stderr
    wb = load_workbook(io.BytesIO((tmp_path / "q4.xlsx").read_bytes()))
    ws = wb["Xác thực ĐDĐT"]
    assert ws["A2"].value.startswith("Quý IV/2024")
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert [(r[1], r[3]) for r in rows] == [("Thị trấn Châu Ổ", 900), ("Xã Bình Long", 5030)]

    year = run("--year", "2024", "--format", "csv", "--out", str(tmp_path))
    assert year.returncode == 0, year.stderr
    assert (tmp_path / "bao_cao_2024.csv").read_text(encoding="utf-8-sig").count("\n") > 1

    for args, code, line in (
        (("--month", "2024-13"), 2, "Lỗi: “2024-13” không phải một tháng, ví dụ 2024-11."),
        (("--quarter", "Q4"), 2, "Lỗi: “Q4” không phải một quý, ví dụ 2024-Q4."),
        (("--month", "2099-01"), 1, "Kỳ tháng 1/2099 chưa bắt đầu"),
        (("--month", "2024-10"), 1, "Chưa có báo cáo tuần nào trong tháng 10/2024"),
    ):
        out = tmp_path / "refused"
        result = run(*args, "--format", "docx", "--out", str(out))
        assert result.returncode == code, result.stderr
        assert result.stderr.startswith(line), result.stderr
        assert not out.exists()
