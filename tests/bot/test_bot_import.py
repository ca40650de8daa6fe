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


def _approve(url: str, period: str) -> None:
    """A leader's /pheduyet, stored as the bot stores it."""
    import asyncio
    from datetime import UTC, datetime

    from core.closing import APPROVED, WeekApproval
    from storage import Database

    async def approve() -> None:
        db = await Database.open(url.replace("sqlite://", "sqlite+aiosqlite://"))
        try:
            async with db.unit_of_work() as uow:
                at = datetime(2024, 11, 18, 7, 0, tzinfo=UTC)
                await uow.weeks.set(WeekApproval(period, APPROVED, "sim:lanh_dao", "Duy", at))
                await uow.commit()
        finally:
            await db.close()

    asyncio.run(approve())


def test_import_into_a_closed_week_is_a_correction_and_an_approved_week_refuses_it(
    tmp_path: Path,
) -> None:
    """Week 46 of 2024 closed long ago: the first import brings in weeks nobody reported
    (plain history); a changed figure after that is stored and recorded as an approved
    correction (preview says so); once the week is approved, a change is refused."""
    database = tmp_path / "bot.db"
    url = f"sqlite:///{database}"
    sheet = golden_sheet()
    path = tmp_path / "tuan46.xlsx"
    path.write_bytes(xlsx(sheet))
    assert _run("import", str(path), "--db", url).returncode == 0

    def corrections() -> list[tuple[str, str, str, str, int]]:
        with sqlite3.connect(database) as con:
            query = "SELECT unit, status, chat, decided_by, version FROM correction_requests"
            return list(con.execute(query))

    assert corrections() == []  # a week nobody had reported for: no correction
    row = next(r for r in sheet[2:] if r[1] == "Xã Bình Long")
    number = sheet.index(row) + 1
    column = sheet[1].index("Đã xác thực ĐDĐT")
    row[column] = int(str(row[column])) + 10
    path.write_bytes(xlsx(sheet))

    dry = _run("import", str(path), "--db", url, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert msg.import_closed_weeks(1, ["tuần 46/2024"]) in dry.stdout
    assert f"Dòng {number}: Xã Bình Long, tuần 46/2024 (tuần đã khóa sổ): thay đổi:" in dry.stdout
    assert corrections() == []

    done = _run("import", str(path), "--db", url, "--by", "thuong_truc")
    assert done.returncode == 0, done.stderr
    assert msg.import_stored(0, 1, 21, 0) in done.stdout
    assert corrections() == [("binh_long", "approved", "import", "cli:thuong_truc", 2)]

    _approve(url, "2024-W46")
    row[column] = int(str(row[column])) + 10
    path.write_bytes(xlsx(sheet))
    refused = _run("import", str(path), "--db", url)
    assert refused.returncode == 1
    locked = msg.import_week_approved("tuần 46/2024", "46/2024")
    assert f"⛔ Dòng {number}: {locked}" in refused.stdout
    assert msg.import_stored(0, 0, 21, 1) in refused.stdout
    assert _rows(database) == 23
    assert len(corrections()) == 1
