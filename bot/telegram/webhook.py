"""Telegram's webhook route for the shared web server (imported only in webhook mode, so a
polling bot does not load aiohttp's server)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
log = logging.getLogger(__name__)


def webhook_routes(
    secret: str,
    parse: Callable[[Any], Update],
    accept: Callable[[Update, dict[str, Any]], Awaitable[None]],
    path: str = "/telegram/webhook",
) -> list[web.RouteDef]:
    """`POST path`: the secret checked before the body is read, the update accepted (stored
    in the inbox, or handled with its replies sent), then 200; 503 when it could not be
    stored (Telegram delivers it again later)."""

    async def webhook(request: web.Request) -> web.Response:
        sent = request.headers.get(SECRET_HEADER, "")
        if not sent:
            return web.Response(status=401, text="missing secret")
        if not hmac.compare_digest(sent.encode(), secret.encode()):
            return web.Response(status=403, text="wrong secret")
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
            log.info("Telegram webhook: a body that is not JSON was refused")
            return web.Response(status=400, text="not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            log.info("Telegram webhook: a body that is not an update was refused")
            return web.Response(status=400, text="not an update")
        try:
            update = parse(body)
        except Exception as exc:  # whatever the library makes of a malformed update
            log.info("Telegram webhook: a malformed update was refused (%s)", type(exc).__name__)
            return web.Response(status=400, text="not an update")
        # Stored (or handled) before answering: if the process dies first, Telegram
        # delivers it again.
        try:
            await accept(update, body)
        except Exception:
            log.exception("Telegram webhook: update %s not stored", body["update_id"])
            return web.Response(status=503, text="not stored")
        return web.Response(text="ok")

    return [web.post(path, webhook)]
