"""The bot process's one web server (aiohttp): chat webhooks, and later chart files.

Each platform hands over its routes; the server adds a health check (`/healthz`: 200 "ok", or
503 with a short reason when the database does not answer; with the outbox's backlog, JSON:
200 with the count of posts due (and of stored updates waiting, with the inbox), 503 when
some have waited too long) and a body size limit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # a Telegram or Zalo update is a few kilobytes


# The health check: None when healthy, else a short reason (e.g. `storage.Database.check`).
HealthCheck = Callable[[], Awaitable[str | None]]
# The outbox's backlog: (posts due now, posts due for longer than the limit); the inbox's:
# (updates waiting, updates waiting for longer than the limit).
Backlog = Callable[[], Awaitable[tuple[int, int]]]


class WebServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        health: HealthCheck | None = None,
        backlog: Backlog | None = None,
        inbox: Backlog | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._check = health
        self._backlog = backlog
        self._inbox = inbox
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None

    async def _health(self, _: web.Request) -> web.Response:
        """200 "ok" when the process can do its work; 503 with the reason when not (a load
        balancer then sends no more webhooks here)."""
        problem = await self._check() if self._check is not None else None
        if problem is not None:
            log.warning("health check failed: %s", problem)
            return web.Response(status=503, text=problem)
        if self._backlog is None:
            return web.Response(text="ok")
        due, stale = await self._backlog()
        body: dict[str, object] = {"status": "ok", "due": due}
        reasons = []
        if stale:
            reasons.append(f"{stale} outbox post(s) due for too long")
            body["stale"] = stale
        if self._inbox is not None:
            waiting, late = await self._inbox()
            body["updates"] = waiting
            if late:
                reasons.append(f"{late} update(s) waiting for too long")
                body["late_updates"] = late
        if reasons:
            log.warning("health check failed: %s", "; ".join(reasons))
            body.update(status="backlog", reason="; ".join(reasons))
            return web.json_response(body, status=503)
        return web.json_response(body)

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
