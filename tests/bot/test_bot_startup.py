"""Start-up refusals: every bad config file, database URL or setting is one clear line on
stderr, exit code 2, no traceback (run as `python -m bot`, the way an administrator does)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "config" / "binh_son.toml").read_text("utf-8")
SECRET = "s3cr3t-Pa55"


def _start(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CONFIG_PATH")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # its own .env (or none), not the checkout's
        capture_output=True,
        text=True,
        timeout=120,
        input="",
        env={**clean, "CONFIG_PATH": str(ROOT / "config" / "binh_son.toml"), **(env or {})},
        check=False,
    )


def _refused(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Lỗi khởi động: ")
    assert expected in lines[0], lines[0]


CONFIG_CASES = {
    "syntax error": ("[calendar\n", "sai cú pháp TOML"),
    "unknown key": (
        GOOD.replace("late_hours = 48", "late_hour = 48"),
        "calendar.late_hour: khóa không được hỗ trợ (unknown key)",
    ),
    "wrong type": (
        GOOD.replace("late_hours = 48", 'late_hours = "48"'),
        "calendar.late_hours: phải là số nguyên từ 0 đến 144",
    ),
    "missing section": (
        GOOD.split("[[units]]")[0].replace("[[fields]]", "[[nothing]]"),
        "units: thiếu (missing); cần ít nhất một mục",
    ),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_bad_config_file_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    text, expected = CONFIG_CASES[case]
    bad = tmp_path / "bad.toml"
    bad.write_text(text, "utf-8")
    (tmp_path / "empty.jsonl").write_text("", "utf-8")
    result = _start(tmp_path, "simulate", "empty.jsonl", "--config", str(bad))
    _refused(result, f"{bad}: ")
    assert expected in result.stderr


def test_config_file_that_is_not_utf8_or_a_directory_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(GOOD.encode("utf-16"))
    (tmp_path / "empty.jsonl").write_text("", "utf-8")
    _refused(_start(tmp_path, "simulate", "empty.jsonl", "--config", str(bad)), "không đọc được")
    result = _start(tmp_path, "simulate", "empty.jsonl", "--config", str(tmp_path))
    _refused(result, "không đọc được tệp cấu hình")


DATABASE_CASES = {
    "unknown scheme": ("mysql://u@127.0.0.1/db", "DATABASE_URL không hợp lệ"),
    "port not a number": (f"postgresql://u:{SECRET}@127.0.0.1:abc/db", "DATABASE_URL không hợp lệ"),
    "broken host": ("postgresql://u@[::1/db", "DATABASE_URL không hợp lệ"),
    "no server there": (
        f"postgresql://u:{SECRET}@127.0.0.1:1/db",
        "không mở được cơ sở dữ liệu (postgresql://u:***@127.0.0.1:1/db)",
    ),
    "password with @": (
        f"postgresql://u:p@{SECRET}@127.0.0.1:1/db",
        "không mở được cơ sở dữ liệu (postgresql://u:***@127.0.0.1:1/db)",
    ),
    "password as a query parameter": (
        f"postgresql://u@127.0.0.1:1/db?password={SECRET}&sslmode=disable",
        "không mở được cơ sở dữ liệu (postgresql://u@127.0.0.1:1/db?password=***&sslmode=disable)",
    ),
    "unknown host": ("postgresql://u@no-such-host.invalid/db", "không mở được cơ sở dữ liệu"),
    "wrong password or user": (
        f"postgresql://nobody:{SECRET}@127.0.0.1:5432/test",
        "không mở được cơ sở dữ liệu",
    ),
    "sqlite file is a directory": ("sqlite:///.", "không mở được cơ sở dữ liệu"),
    "empty": ("  ", "DATABASE_URL: không được để trống"),
}


@pytest.mark.parametrize("case", list(DATABASE_CASES))
def test_bad_database_url_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    url, expected = DATABASE_CASES[case]
    result = _start(tmp_path, "console", env={"DATABASE_URL": url})
    _refused(result, expected)
    assert SECRET not in result.stderr + result.stdout


def test_bad_timezone_setting_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("", "utf-8")
    result = _start(tmp_path, "simulate", "empty.jsonl", env={"TIMEZONE": "Mars/Olympus"})
    _refused(result, "calendar.timezone: múi giờ 'Mars/Olympus' không tồn tại")


def test_a_lease_renewal_too_slow_for_its_ttl_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("", "utf-8")
    result = _start(
        tmp_path,
        "simulate",
        "empty.jsonl",
        env={"LEASE_TTL_SECONDS": "30", "LEASE_RENEW_SECONDS": "15"},
    )
    _refused(result, "LEASE_RENEW_SECONDS: LEASE_RENEW_SECONDS phải không quá một phần ba")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"LOG_LEVEL=INFO\nDATABASE_URL sqlite:///x.db\n", ".env: dòng 2 không đúng dạng"),
        (b"LOG_LEVEL=INFO\n='x'\n", ".env: dòng 2 không đúng dạng"),
        ("DATABASE_URL=sqlite:///bộ.db\n".encode("utf-16"), ".env: tệp không phải văn bản UTF-8"),
    ],
)
def test_malformed_env_file_is_refused(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / ".env").write_bytes(content)
    (tmp_path / "empty.jsonl").write_text("", "utf-8")
    _refused(_start(tmp_path, "simulate", "empty.jsonl"), expected)


def test_a_good_env_file_starts(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        '# comment\n\nLOG_LEVEL=INFO\nexport TIMEZONE="Asia/Ho_Chi_Minh"\n', "utf-8"
    )
    (tmp_path / "empty.jsonl").write_text("", "utf-8")
    result = _start(tmp_path, "simulate", "empty.jsonl")
    assert result.returncode == 0, result.stderr


def test_starting_loads_no_library_a_feature_loads_when_used() -> None:
    """`python -m bot`'s modules import no drawing, spreadsheet or web-server library, nor the
    Zalo adapter: each is loaded when a feature needs it (a chart, a file, a webhook, a Zalo
    token), so a Telegram bot polling starts small (bench `idle_rss_mb`, `startup_s`). The
    simulator once loaded the Zalo adapter, and with it aiohttp: 11 MB more at idle."""
    heavy = ("matplotlib", "pandas", "openpyxl", "docx", "aiohttp", "bot.zalo.bot")
    code = (
        "import sys, bot.cli, bot.runtime, bot.app, bot.simulator\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert loaded == ""
