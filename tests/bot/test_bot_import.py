"""`python -m bot import` as an administrator runs it on the server: the preview, --dry-run
storing nothing, the exit codes, and a second run of the same file changing nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from core import messages as msg
from tests.handlers.test_handlers_imports import golden_sheet, xlsx

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        input="",
        env=dict(os.environ),
        check=False,
    )


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as con:
        return int(con.execute("SELECT count(*) FROM submissions").fetchone()[0])


def test_import_previews_stores_and_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    url = f"sqlite:///{database}"
    bad = golden_sheet()
    bad[2][1] = "Xã Không Có"
    bad_file, good_file = tmp_path / "loi.xlsx", tmp_path / "tuan46.xlsx"
    bad_file.write_bytes(xlsx(bad))
    good_file.write_bytes(xlsx(golden_sheet()))

    dry = _run("import", str(bad_file), "--db", url, "--dry-run")
    assert dry.returncode == 1, dry.stderr  # a row was refused
    assert "⛔ Dòng 3, cột B (Đơn vị): " in dry.stdout
    assert msg.IMPORT_DRY_RUN in dry.stdout
    assert _rows(database) == 0

    first = _run("import", str(good_file), "--db", url, "--by", "thuong_truc")
    assert first.returncode == 0, first.stderr
    assert msg.import_stored(22, 0, 0, 0) in first.stdout
    assert _rows(database) == 22

    again = _run("import", str(good_file), "--db", url)
    assert again.returncode == 0, again.stderr
    assert msg.import_stored(0, 0, 22, 0) in again.stdout
    assert _rows(database) == 22
    with sqlite3.connect(database) as con:
        who = {r[0] for r in con.execute("SELECT sender_name FROM submissions")}
    assert who == {"thuong_truc"}


def test_import_refuses_a_file_without_a_week_or_that_is_no_workbook(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    sheet = tmp_path / "khong_tuan.xlsx"
    sheet.write_bytes(xlsx(golden_sheet(heading="Số liệu")))
    result = _run("import", str(sheet), "--db", url)
    assert result.returncode == 2
    assert msg.IMPORT_NO_PERIOD in result.stderr
    with_period = _run("import", str(sheet), "--db", url, "--period", "2024-W40", "--dry-run")
    assert with_period.returncode == 0, with_period.stderr
    assert "22 dòng mới" in with_period.stdout
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    result = _run("import", str(junk), "--db", url)
    assert result.returncode == 2
    assert msg.IMPORT_UNREADABLE in result.stderr
