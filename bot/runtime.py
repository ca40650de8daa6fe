"""`python -m bot run`: the engine on the configured chat platforms until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from telegram.error import InvalidToken, TelegramError

from bot.app import App, open_app
from bot.config_file import StartupError
from bot.settings import Settings
from bot.telegram.bot import TelegramBot, TelegramSettings
from bot.web import WebServer

log = logging.getLogger(__name__)


def telegram_settings(settings: Settings) -> TelegramSettings:
    token = settings.telegram_bot_token
    if token is None:
        raise StartupError("TELEGRAM_BOT_TOKEN chưa đặt")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if settings.webhook_url:
        if not settings.webhook_url.startswith("https://"):
            raise StartupError("WEBHOOK_URL phải là địa chỉ https:// (Telegram chỉ gọi HTTPS)")
        if len(secret) < 16 or not all(c.isalnum() or c in "_-" for c in secret):
            raise StartupError(
                "WEBHOOK_SECRET cần ít nhất 16 ký tự A-Z, a-z, 0-9, _ hoặc - khi dùng WEBHOOK_URL"
            )
    return TelegramSettings(
        token=token.get_secret_value(),
        api_root=settings.telegram_api_base_url,
        webhook_url=settings.webhook_url,
        webhook_secret=secret,
        form_timeout_s=settings.form_timeout_minutes * 60,
    )


async def serve(
    settings: Settings,
    config: Path | None = None,
    database_url: str | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until `stop` is set (or a signal arrives); everything started is stopped."""
    stop = stop or asyncio.Event()
    tg_settings = telegram_settings(settings)
    app = await open_app(settings, config_path=config, database_url=database_url)
    web = WebServer(settings.web_host, settings.web_port)
    telegram = TelegramBot(app.engine, tg_settings)
    started: list[TelegramBot | WebServer] = []
    try:
        try:
            await telegram.start()
        except InvalidToken as exc:
            raise StartupError(
                "Telegram từ chối TELEGRAM_BOT_TOKEN; kiểm tra lại với @BotFather"
            ) from exc
        except TelegramError as exc:
            raise StartupError(f"không kết nối được Telegram Bot API: {exc}") from exc
        started.append(telegram)
        if tg_settings.webhook_url:
            web.add_routes(telegram.webhook_routes())
            await web.start()
            started.append(web)
        _on_signals(stop)
        log.info("bot running; Ctrl-C or SIGTERM stops it")
        await stop.wait()
    finally:
        for part in reversed(started):
            with contextlib.suppress(Exception):
                await part.stop()
        await _close(app)


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def _close(app: App) -> None:
    await app.close()
