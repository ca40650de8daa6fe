"""Secrets never reach the logs: a full simulated week, a database outage and a failed
start, all logged at DEBUG with a fake secret in every secret setting."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.app import open_app
from bot.cli import DEMO_SCENARIO, read_lines, simulate_lines
from bot.config_file import StartupError
from bot.settings import Settings
from core import messages as msg
from core.chat import Incoming, render_plain
from tests.outage import outage_switch

DB_PASSWORD = "FAKE-dbpw-5d1e9c"
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
REPORT = (
    "/baocao\nĐã cấp CCCD: {n}\nĐã xác thực ĐDĐT: 5014\nĐã kích hoạt ĐDĐT: 4454\n"
    "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)


def _secret_settings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A fake value in every SecretStr setting (tokens of every platform, now and later)."""
    secrets = []
    for name, info in Settings.model_fields.items():
        if "SecretStr" in str(info.annotation) or info.annotation is SecretStr:
            # Shaped to pass the settings' checks: a Telegram token is `digits:20+ chars`,
            # webhook secrets are 16+ letters, digits, `_` or `-`.
            prefix = "987654321:" if name == "telegram_bot_token" else ""
            value = f"{prefix}FAKE{name.replace('_', '')}0d6f2b41AbCdEfGhIj"
            monkeypatch.setenv(name.upper(), value)
            secrets.append(value)
    assert secrets, "no secret setting found"
    return secrets


def _with_password(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name().startswith("sqlite"):
        return url  # a file has no password
    return parsed.set(password=DB_PASSWORD).render_as_string(hide_password=False)


async def test_no_secret_in_any_log_of_a_full_run(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secrets = [*_secret_settings(monkeypatch), DB_PASSWORD]
    url = _with_password(database_url)
    monkeypatch.setenv("DATABASE_URL", url)
    settings = Settings()
    assert DB_PASSWORD not in repr(settings) or "sqlite" in url  # settings may be logged
    logging.getLogger("test").debug("settings: %r", settings)
    # Everything at DEBUG, including the libraries that default to quieter levels (SQLAlchemy
    # sets its own loggers to WARNING): SQL, parameters, pool, migrations, drivers.
    for name in ("", "sqlalchemy", "alembic", "asyncpg", "aiosqlite"):
        caplog.set_level(logging.DEBUG, logger=name)

    # A whole reporting week: reports, refusals, corrections, views.
    results = await simulate_lines(read_lines(DEMO_SCENARIO), settings, None, url, tmp_path)
    posts = [p.text for _, ps in results for p in ps]
    # While the whole week is at hand: every reply fits one Telegram message (4,096 characters).
    assert max(len(p) for p in posts) <= 4096

    # The database goes away mid-run and comes back: failures are logged with tracebacks.
    async with outage_switch(url) as outage:
        app = await open_app(settings, database_url=outage.url, clock=lambda: SATURDAY)
        try:
            answers = []
            for n, stop in ((7001, False), (7002, True), (7003, False)):
                if stop:
                    outage.stop()
                message = Incoming(
                    "sim",
                    "nhom_bao_cao",
                    "group",
                    "cb_binh_long",
                    "cb_binh_long",
                    REPORT.format(n=n),
                    SATURDAY,
                    str(n),
                )
                answers.append(render_plain((await app.engine.handle(message))[0].blocks))
                outage.resume()
        finally:
            await app.close()
    assert answers[1] == msg.BUSY_NOT_SAVED
    posts += answers

    # A start that fails on an unreachable server names the URL, without its password.
    host = make_url(url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    if "sqlite" not in url:
        with pytest.raises(StartupError) as refused:
            await open_app(settings, database_url=host)
        posts.append(str(refused.value))

    logged = caplog.text + "\n".join(
        logging.Formatter("%(message)s %(args)s").format(r) for r in caplog.records
    )
    printed = capsys.readouterr()
    assert len(caplog.records) > 1000  # DEBUG really was on: SQL, pool and engine logs
    assert "storage failed while handling /baocao" in logged
    for secret in secrets:
        for where, text in (("log", logged), ("output", printed.out + printed.err)):
            assert secret not in text, f"{secret} in {where}"
        assert not any(secret in p for p in posts)
