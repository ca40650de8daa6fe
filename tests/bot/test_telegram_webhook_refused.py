"""`setWebhook` refused by Telegram stops the start-up: one clear line, exit code 2 (run as
`python -m bot run`, the way an administrator does, against the fake Bot API over HTTP)."""

from __future__ import annotations

from pathlib import Path

from testing.fake_telegram import FakeBotApi
from tests.bot.test_telegram_one_receiver import run_bot, the_one_line

REFUSAL = "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"


async def test_a_refused_webhook_stops_the_start_up_in_one_line(tmp_path: Path) -> None:
    api = FakeBotApi()
    await api.start()
    api.refuse_webhook(REFUSAL)
    try:
        code, stderr = await run_bot(
            api,
            tmp_path,
            WEBHOOK_URL="https://bot.example.vn:9000/telegram/webhook",
            WEBHOOK_SECRET="a-good-secret_0123456789",
            WEB_HOST="127.0.0.1",
            WEB_PORT="0",
        )
    finally:
        await api.stop()
    assert code == 2, stderr
    line = the_one_line(stderr)
    assert "Telegram từ chối WEBHOOK_URL https://bot.example.vn:9000/telegram/webhook" in line
    assert "ports 80, 88, 443 or 8443" in line
    assert [c.method for c in api.calls].count("setWebhook") == 1
    assert "getUpdates" not in [c.method for c in api.calls]
