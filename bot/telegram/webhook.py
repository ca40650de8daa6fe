"""Telegram's webhook route for the shared web server (imported only in webhook mode, so a
polling bot does not load aiohttp's server)."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Update

if TYPE_CHECKING:
    from bot.telegram.bot import TelegramBot

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_routes(bot: TelegramBot, path: str = "/telegram/webhook") -> list[web.RouteDef]:
    async def webhook(request: web.Request) -> web.Response:
        # The secret is checked before the body is read.
        sent = request.headers.get(SECRET_HEADER, "")
        if not sent:
            return web.Response(status=401, text="missing secret")
        if not hmac.compare_digest(sent.encode(), bot.settings.webhook_secret.encode()):
            return web.Response(status=403, text="wrong secret")
        try:
            update = Update.de_json(await request.json(), bot.application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        # Handled before answering: if the process dies first, Telegram delivers it again.
        await bot.process(update)
        return web.Response(text="ok")

    return [web.post(path, webhook)]
