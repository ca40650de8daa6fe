"""The bot process's one web server (aiohttp): chat webhooks, and later chart files.

Each platform hands over its routes; the server adds a health check and a body size limit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # a Telegram or Zalo update is a few kilobytes


async def _health(_: web.Request) -> web.Response:
    return web.Response(text="ok")


class WebServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.host, self.port = host, port
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/healthz", _health)
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: Iterable[web.RouteDef]) -> None:
        self.app.router.add_routes(list(routes))

    async def start(self) -> int:
        """Serve; returns the port (useful when asked for port 0)."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("web server on http://%s:%d", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
