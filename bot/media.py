"""Charts served over HTTP under unguessable, expiring URLs, for platforms that take a photo
only by URL (Zalo's `sendPhoto`). The lead's web server mounts `media_routes(store)`.

The bytes are stored in the database (table `media`) when the URL is made, so whichever
worker behind the balancer gets the platform's fetch can serve them; expired rows are
deleted by the daily maintenance (`handlers.maintenance.prune`)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from storage import Database

DEFAULT_TTL = 3600.0  # seconds; long enough for the platform to fetch, short enough to leak little
ROUTE = "/media/{token}.png"
CONTENT_TYPE = "image/png"
# What `secrets.token_urlsafe(24)` gives: anything else is answered 404 without a query.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
# A chart is 60 to 170 KB; a file far beyond that is not one of ours.
MAX_BYTES = 5 * 1024 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


class MediaStore:
    """PNG bytes kept in the database under `secrets.token_urlsafe(24)` tokens until they
    expire.

    Bytes, not paths: the chart file is deleted as soon as the send call returns, and the
    platform may fetch the URL after that, from another worker. The table holds the charts
    sent within one TTL (an hour; a chart is 60 to 170 KB)."""

    def __init__(
        self,
        public_base_url: str,
        db: Database,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if not public_base_url.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_BASE_URL must start with http:// or https://")
        self.public_base_url = public_base_url.rstrip("/")
        self.db = db
        self.ttl = ttl
        self._clock = clock

    async def add_bytes(self, data: bytes) -> str:
        """Store `data`; returns its public URL."""
        if len(data) > MAX_BYTES:
            raise ValueError(f"a media file is at most {MAX_BYTES} bytes, not {len(data)}")
        token = secrets.token_urlsafe(24)
        expires = self._clock() + timedelta(seconds=self.ttl)
        async with self.db.unit_of_work() as uow:
            await uow.media.add(token, CONTENT_TYPE, data, expires)
            await uow.commit()
        return f"{self.public_base_url}/media/{token}.png"

    async def url_for(self, path: Path) -> str:
        """Serve the PNG file at `path`, read now (the file may go once this returns);
        returns its public URL."""
        return await self.add_bytes(await asyncio.to_thread(Path(path).read_bytes))

    async def get(self, token: str) -> bytes | None:
        """The PNG under `token`, or None when unknown or expired."""
        if not _TOKEN.fullmatch(token):
            return None
        async with self.db.unit_of_work() as uow:
            found = await uow.media.get(token, self._clock())
        if found is None or found[0] != CONTENT_TYPE:
            return None
        return found[1]

    async def count(self) -> int:
        """Files not yet expired."""
        async with self.db.unit_of_work() as uow:
            return await uow.media.count(self._clock())


def media_routes(store: MediaStore) -> list[web.RouteDef]:
    async def serve(request: web.Request) -> web.Response:
        data = await store.get(request.match_info["token"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=data,
            content_type=CONTENT_TYPE,
            headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
        )

    return [web.get(ROUTE, serve)]
