"""Charts served over HTTP under unguessable, expiring URLs, for platforms that take a photo
only by URL (Zalo's `sendPhoto`). The lead's web server mounts `media_routes(store)`."""

from __future__ import annotations

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
    data: bytes


class MediaStore:
    """PNG bytes kept in memory under `secrets.token_urlsafe(24)` tokens until they expire.

    Bytes, not paths: the chart file is deleted as soon as the send call returns, and the
    platform may fetch the URL after that. Memory is bounded by the charts sent within one
    TTL (an hour; a chart is 60 to 170 KB, so even a hundred charts an hour hold under 20 MB);
    expired ones are dropped whenever the store is used."""

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
        self._purge()
        token = secrets.token_urlsafe(24)
        self._items[token] = _Item(self._clock() + self.ttl, data)
        return f"{self.public_base_url}/media/{token}.png"

    def url_for(self, path: Path) -> str:
        """Serve the PNG file at `path`, read now (the file may go once this returns);
        returns its public URL."""
        return self.add_bytes(Path(path).read_bytes())

    def _purge(self) -> None:
        now = self._clock()
        for token in [t for t, item in self._items.items() if item.expires <= now]:
            del self._items[token]

    def get(self, token: str) -> bytes | None:
        """The PNG under `token`, or None when unknown or expired."""
        self._purge()
        item = self._items.get(token)
        return None if item is None else item.data

    def __len__(self) -> int:
        self._purge()
        return len(self._items)


def media_routes(store: MediaStore) -> list[web.RouteDef]:
    async def serve(request: web.Request) -> web.Response:
        data = store.get(request.match_info["token"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=data,
            content_type="image/png",
            headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
        )

    return [web.get(ROUTE, serve)]
