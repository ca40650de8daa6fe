"""Charts served over HTTP under unguessable, expiring URLs, for platforms that take a photo
only by URL (Zalo's `sendPhoto`). The lead's web server mounts `media_routes(store)`."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

DEFAULT_TTL = 3600.0  # seconds; long enough for the platform to fetch, short enough to leak little
ROUTE = "/media/{token}.png"


@dataclass(frozen=True)
class _Item:
    expires: float
    data: bytes | None = None
    path: Path | None = None


class MediaStore:
    """PNG bytes or files kept under `secrets.token_urlsafe(24)` tokens until they expire."""

    def __init__(
        self,
        public_base_url: str,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not public_base_url.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_BASE_URL must start with http:// or https://")
        self.public_base_url = public_base_url.rstrip("/")
        self.ttl = ttl
        self._clock = clock
        self._items: dict[str, _Item] = {}

    def add_bytes(self, data: bytes) -> str:
        """Keep `data`; returns its public URL."""
        return self._add(_Item(self._clock() + self.ttl, data=data))

    def url_for(self, path: Path) -> str:
        """Serve the PNG file at `path` (read when fetched); returns its public URL."""
        return self._add(_Item(self._clock() + self.ttl, path=Path(path)))

    def _add(self, item: _Item) -> str:
        self._purge()
        token = secrets.token_urlsafe(24)
        self._items[token] = item
        return f"{self.public_base_url}/media/{token}.png"

    def _purge(self) -> None:
        now = self._clock()
        for token in [t for t, item in self._items.items() if item.expires <= now]:
            del self._items[token]

    async def get(self, token: str) -> bytes | None:
        """The PNG under `token`, or None when unknown, expired or its file is gone."""
        item = self._items.get(token)
        if item is None or item.expires <= self._clock():
            return None
        if item.data is not None:
            return item.data
        assert item.path is not None
        try:
            return await asyncio.to_thread(item.path.read_bytes)
        except OSError:
            return None

    def __len__(self) -> int:
        self._purge()
        return len(self._items)


def media_routes(store: MediaStore) -> list[web.RouteDef]:
    async def serve(request: web.Request) -> web.Response:
        data = await store.get(request.match_info["token"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=data,
            content_type="image/png",
            headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
        )

    return [web.get(ROUTE, serve)]
