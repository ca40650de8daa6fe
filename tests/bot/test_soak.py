"""Crash soak: reports through the fake Bot API while the bot process is SIGKILLed and restarted.

The bot runs as a real process (`python -m bot run`, long polling, SQLite with synchronous=FULL)
against the fake Bot API in this process. Afterwards every report is stored exactly once and
acknowledged: one whose process was killed before its reply was delivered again by Telegram
and answered with the reply it kept. `make test` runs a short soak; `make soak` the long one
(SOAK_REPORTS=1000).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from testing.fake_telegram import TOKEN, FakeBotApi, text_update
from tests.conftest import CONFIG_PATH

ROOT = Path(__file__).resolve().parents[2]
OFFICER = 5000  # telegram ids 5000, 5001, … for the communes in config order
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ACK = re.compile(r"Đã nhận báo cáo tuần (\d+)/(\d+) của (.+?)(?: \(cập nhật|, )")
REPORTS = int(os.environ.get("SOAK_REPORTS", "120"))
KILLS = int(os.environ.get("SOAK_KILLS", "4"))


def unit_names() -> list[tuple[str, str]]:
    import tomllib

    data = tomllib.loads(CONFIG_PATH.read_text("utf-8"))
    return [(u["code"], u["name"]) for u in data["units"]]


def report(name: str, week: int, n: int) -> str:
    issued = 5000 + 100 * n + 10 * week
    verified = 3000 + 50 * n + 20 * week
    return (
        f"/baocao\nĐơn vị: {name}\nĐã cấp CCCD: {issued}\nĐã xác thực ĐDĐT: {verified}\n"
        f"Đã kích hoạt ĐDĐT: {verified - 100}\nTrẻ 6-14 tuổi: 1000\n"
        f"Đã cấp Căn cước 6-14 tuổi: {500 + 10 * week}"
    )


def week_date(week: int) -> datetime:
    """Sunday before the Monday due date of ISO week `week` of 2024: on time."""
    monday = datetime.fromisocalendar(2024, week, 1).replace(hour=10, tzinfo=TZ)
    return monday - timedelta(days=1)


def stored(db: Path) -> list[tuple[str, str, int]]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        try:
            return connection.execute("SELECT unit, period, version FROM submissions").fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []


async def start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_reports_survive_sigkill_exactly_once(tmp_path: Path) -> None:
    api = FakeBotApi()
    await api.start()
    units = unit_names()
    # One officer per commune, each in a private chat: the bot handles chats at once, so a
    # kill lands between a report's commit and its reply as often as it can.
    officers = "".join(
        f'\n[people.soak_{code}]\nname = "Cán bộ {n}"\nrole = "officer"\nunit = "{code}"\n'
        f"telegram = {OFFICER + n}\n"
        for n, (code, _) in enumerate(units)
    )
    config = tmp_path / "soak.toml"
    # Each officer sends weeks of reports at once (`make soak`: about 46 each within seconds),
    # far past the flood limit a real officer never meets (handlers.flood): lifted here.
    limits = "\n[limits]\nper_minute = 1000\n"
    config.write_text(CONFIG_PATH.read_text("utf-8") + officers + limits, "utf-8")
    db = tmp_path / "soak.db"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.root,
        "DATABASE_URL": f"sqlite:///{db}",
        "CONFIG_PATH": str(config),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        # A restarted process waits for the killed one's polling lease to expire: short here.
        "LEASE_TTL_SECONDS": "3",
        "LEASE_RENEW_SECONDS": "1",
    }
    wanted: dict[tuple[str, str], str] = {}  # (unit code, period) -> text
    for n in range(REPORTS):
        code, name = units[n % len(units)]
        week = 1 + n // len(units)
        text = wanted[(code, f"2024-W{week:02d}")] = report(name, week, n % len(units))
        officer = OFFICER + n % len(units)
        api.push(text_update(officer, officer, text, date=week_date(week)))
    by_name = {name: code for code, name in units}
    rng = random.Random(6)
    kills = 0
    started = time.monotonic()
    try:
        for _ in range(KILLS):
            process = await start(env)
            polled = len(api.sent("getUpdates"))
            await api.wait_for(lambda a, p=polled: len(a.sent("getUpdates")) > p, within=60)
            await asyncio.sleep(rng.uniform(0.2, 2.0))
            process.send_signal(signal.SIGKILL)
            await process.wait()
            kills += 1
        acknowledged_before_final = len(_acks(api, by_name))
        polled = len(api.sent("getUpdates"))
        process = await start(env)
        await api.wait_for(lambda a: len(a.sent("getUpdates")) > polled, within=60)
        await _until_stored(db, len(wanted), within=300)
        await asyncio.sleep(1.0)  # the last replies leave the rate limiter
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, stderr.decode()
    finally:
        await api.stop()
    rows = stored(db)
    versions: dict[tuple[str, str], list[int]] = {}
    for unit, period, version in rows:
        versions.setdefault((unit, period), []).append(version)
    acks = _acks(api, by_name)
    # Every report is stored, each exactly once (one version, no doubles).
    assert set(versions) == set(wanted)
    assert all(v == [1] for v in versions.values()), {k: v for k, v in versions.items() if v != [1]}
    # Every stored report was acknowledged, a kill between its commit and its reply
    # included: the report kept its answer, sent when Telegram delivered the update again.
    assert set(acks) == set(wanted)
    # Twice only where a kill fell between a reply and the record that it was sent: at most
    # the chats in hand at each kill (each officer's private chat is handled at once).
    again = len(acks) - len(set(acks))
    assert again <= kills * len(units), again
    print(
        f"\nsoak: {len(wanted)} reports, {kills} SIGKILLs, {acknowledged_before_final} "
        f"acknowledged before the last start, {len(set(acks))} acknowledged in all, "
        f"{again} acknowledged twice (killed between a reply and its record), "
        f"{time.monotonic() - started:.1f} s"
    )


async def _until_stored(db: Path, count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while len(stored(db)) < count and time.monotonic() < deadline:  # noqa: ASYNC110 (another process writes)
        await asyncio.sleep(0.2)


def _acks(api: FakeBotApi, by_name: dict[str, str]) -> list[tuple[str, str]]:
    """(unit, period) of every acknowledgement the bot sent."""
    out = []
    for text in api.texts():
        match = ACK.search(text)
        if match:
            week, year, name = match.groups()
            out.append((by_name[name], f"{year}-W{int(week):02d}"))
    return out


pytestmark = pytest.mark.soak
