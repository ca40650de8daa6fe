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
