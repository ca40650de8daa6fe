"""`setWebhook` refused by Telegram stops the start-up: one clear line, exit code 2 (run as
`python -m bot run`, the way an administrator does, against the fake Bot API over HTTP)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from testing.fake_telegram import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
REFUSAL = "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"


async def test_a_refused_webhook_stops_the_start_up_in_one_line(tmp_path: Path) -> None:
    api = FakeBotApi()
    await api.start()
    api.refuse_webhook(REFUSAL)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env={
                **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)},
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": api.root,
                "WEBHOOK_URL": "https://bot.example.vn:9000/telegram/webhook",
                "WEBHOOK_SECRET": "a-good-secret_0123456789",
                "WEB_HOST": "127.0.0.1",
                "WEB_PORT": "0",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                "CONFIG_PATH": str(ROOT / "config" / "binh_son.toml"),
                "PYTHONPATH": str(ROOT),
            },
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 120)
    finally:
        await api.stop()
    text = stderr.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text
    [line] = [x for x in text.splitlines() if x.startswith("Lỗi khởi động: ")]
    assert "Telegram từ chối WEBHOOK_URL https://bot.example.vn:9000/telegram/webhook" in line
    assert "ports 80, 88, 443 or 8443" in line
    assert text.strip().splitlines()[-1] == line
    assert [c.method for c in api.calls].count("setWebhook") == 1
    assert "getUpdates" not in [c.method for c in api.calls]
