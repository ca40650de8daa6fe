"""Backups: a consistent online copy of a live SQLite database, and restoring it."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import App, open_app
from bot.settings import Settings
from core.chat import Incoming, render_plain
from storage import Database
from storage.backup import backup

ROOT = Path(__file__).resolve().parents[2]
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
PERIOD = "2024-W47"
CODES = {
    "Xã Bình Long": "binh_long",
    "Xã Bình Thuận": "binh_thuan",
    "Xã Bình Châu": "binh_chau",
    "Thị trấn Châu Ổ": "chau_o",
    "Xã Bình Thạnh": "binh_thanh_2",
}
UNITS = list(CODES)

Acked = dict[str, list[int]]  # unit name -> the e-ID figure of every acknowledged report


def _report(unit: str, n: int) -> str:
    return (
        f"/baocao\nĐơn vị: {unit}\nĐã cấp CCCD: {6000 + n}\nĐã xác thực ĐDĐT: {5000 + n}\n"
        f"Đã kích hoạt ĐDĐT: {4000 + n}\nTrẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300"
    )


async def _send(app: App, text: str, count: int) -> str:
    message = Incoming(
        "sim", "nhom_bao_cao", "group", "thuong_truc", "thuong_truc", text, SATURDAY, str(count)
    )
    return "\n".join(render_plain(r.blocks) for r in await app.engine.handle(message))


async def _write(app: App, acked: Acked, rounds: range) -> None:
    """The admin reports for five units, round after round, recording what was acknowledged."""
    for n in rounds:
        for unit in UNITS:
            answer = await _send(app, _report(unit, n), n)
            assert answer.startswith("✅ Đã nhận"), answer
            acked.setdefault(unit, []).append(5000 + n)
            await asyncio.sleep(0)


async def _stored(url: str) -> dict[str, list[int]]:
    db = await Database.open(url)
    try:
        async with db.unit_of_work() as uow:
            return {
                u: [s.values["eid_verified"] for s in await uow.submissions.versions(c, PERIOD)]
                for u, c in CODES.items()
            }
    finally:
        await db.close()


async def test_backup_of_a_live_database_holds_every_acknowledged_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live' / 'bot.db'}"
    app = await open_app(Settings(), database_url=url)
    acked: Acked = {}
    try:
        await _write(app, acked, range(1, 6))
        before = {u: list(v) for u, v in acked.items()}
        # Keep writing while the backup runs in its thread.
        writer = asyncio.create_task(_write(app, acked, range(6, 40)))
        await asyncio.sleep(0)
        result = await backup(url, tmp_path / "backups" / "bot-2024-11-16.db")
        await writer
    finally:
        await app.close()

    copy = await _stored(f"sqlite:///{result.path}")
    for unit, figures in before.items():
        # Everything acknowledged before the backup began is in it, in order...
        assert copy[unit][: len(figures)] == figures, unit
        # ...and nothing in it was not acknowledged (no half-written report).
        assert copy[unit] == acked[unit][: len(copy[unit])], unit
    assert result.submissions == sum(len(v) for v in copy.values())
    # One self-contained file: the copy does not depend on a -wal sidecar.
    assert _files(result.path.parent) == {result.path.name}


async def test_restoring_a_backup_brings_back_every_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live' / 'bot.db'}"
    app = await open_app(Settings(), database_url=url)
    acked: Acked = {}
    try:
        await _write(app, acked, range(1, 4))
        saved = tmp_path / "bot-backup.db"
        await backup(url, saved)
    finally:
        await app.close()

    # The restore procedure of docs/RELIABILITY.md: stop the bot, copy the backup into place
    # (removing any -wal/-shm left by the old file), start the bot.
    restored = tmp_path / "new-server" / "data" / "bot.db"
    restored.parent.mkdir(parents=True)
    shutil.copyfile(saved, restored)
    app = await open_app(Settings(), database_url=f"sqlite:///{restored}")
    try:
        message = Incoming(
            "sim", "nhom_bao_cao", "group", "lanh_dao", "lanh_dao", "/trangthai", SATURDAY
        )
        status = "\n".join(render_plain(r.blocks) for r in await app.engine.handle(message))
    finally:
        await app.close()
    assert f"Đã báo cáo: {len(UNITS)}/22 đơn vị" in status
    assert await _stored(f"sqlite:///{restored}") == acked


def _files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "backup", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


async def test_backup_command_copies_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    app = await open_app(Settings(), database_url=url)
    try:
        await _write(app, {}, range(1, 3))
    finally:
        await app.close()
    out = tmp_path / "copy.db"
    result = _cli("--out", str(out), "--db", url)
    assert result.returncode == 0, result.stderr
    assert f"Đã sao lưu 10 phiên bản báo cáo vào {out}" in result.stdout
    assert (await _stored(f"sqlite:///{out}"))["Xã Bình Long"] == [5001, 5002]


def test_backup_command_refuses_postgresql_and_points_to_pg_dump(tmp_path: Path) -> None:
    result = _cli(
        "--out", str(tmp_path / "x.db"), env={"DATABASE_URL": "postgresql://u:pw@127.0.0.1/db"}
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "pg_dump" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_backup_command_refuses_a_missing_database(tmp_path: Path) -> None:
    result = _cli("--out", str(tmp_path / "x.db"), "--db", f"sqlite:///{tmp_path / 'no.db'}")
    assert result.returncode == 2
    assert "Không tìm thấy tệp cơ sở dữ liệu" in result.stderr
    assert result.stderr.count("\n") == 1


async def test_backup_does_not_wait_for_or_copy_a_transaction_in_progress(tmp_path: Path) -> None:
    """The bot in the middle of writing (its write lock held, nothing committed yet): the backup
    goes ahead at once and holds the last committed state."""
    live = tmp_path / "bot.db"
    app = await open_app(Settings(), database_url=f"sqlite:///{live}")
    try:
        await _write(app, {}, range(1, 2))
    finally:
        await app.close()
    writer = sqlite3.connect(live, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE submissions SET raw_text = 'UNCOMMITTED'")
        result = await backup(f"sqlite:///{live}", tmp_path / "copy.db")
    finally:
        writer.rollback()
        writer.close()
    copy = sqlite3.connect(result.path)
    try:
        texts = [row[0] for row in copy.execute("SELECT raw_text FROM submissions")]
    finally:
        copy.close()
    assert len(texts) == len(UNITS)
    assert "UNCOMMITTED" not in texts
