"""Database outages for tests: a TCP proxy that "stops" PostgreSQL, and for SQLite another
process holding the write lock past busy_timeout."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

from storage import normalize_url


@dataclass
class Proxy:
    """127.0.0.1:<random port> -> the PostgreSQL server, with a switch to cut it off."""

    host: str
    port: int
    up: bool = True
    hanging: bool = False  # accept connections but never answer (a frozen server)
    # Cut the connection when the client sends these bytes, before they reach the server.
    cut_on: bytes | None = None
    server: asyncio.Server | None = None
    links: set[asyncio.StreamWriter] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.hanging:
            self.links.add(client_w)
            return
        if not self.up:
            client_w.transport.abort()  # "connection reset": the server is not there
            return
        try:
            server_r, server_w = await asyncio.open_connection(self.host, self.port)
        except OSError:
            client_w.transport.abort()
            return
        self.links |= {client_w, server_w}
        for source, sink, pair in ((client_r, server_w, client_w), (server_r, client_w, None)):
            task = asyncio.create_task(self._pipe(source, sink, pair))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        client: asyncio.StreamWriter | None,  # set on the client -> server direction
    ) -> None:
        try:
            while data := await source.read(65536):
                if client is not None and self.cut_on is not None and self.cut_on in data:
                    self.cut_on = None
                    client.transport.abort()
                    break
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            sink.transport.abort()
            self.links.discard(sink)

    def stop(self) -> None:
        """PostgreSQL goes away: every open connection dies, new ones are refused."""
        self.up = False
        for link in list(self.links):
            link.transport.abort()
        self.links.clear()

    def hang(self) -> None:
        self.stop()
        self.hanging = True

    def resume(self) -> None:
        self.up, self.hanging = True, False

    async def close(self) -> None:
        self.stop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass
class Outage:
    url: str  # what the bot connects to
    stop: Callable[[], None]
    resume: Callable[[], None]
    hang: Callable[[], None] | None = None
    proxy: Proxy | None = None  # PostgreSQL only


LOCKER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
connection.rollback()
"""


@contextlib.asynccontextmanager
async def outage_switch(database_url: str) -> AsyncIterator[Outage]:
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() == "sqlite":
        path = url.database
        assert path
        holder: list[subprocess.Popen[str]] = []

        def lock() -> None:
            # Another process (a stuck maintenance script, say) takes the write lock and
            # keeps it past busy_timeout, until its stdin closes.
            other = subprocess.Popen(
                [sys.executable, "-c", LOCKER, path],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            holder.append(other)
            assert other.stdout is not None
            assert other.stdout.readline().strip() == "locked"

        def unlock() -> None:
            while holder:
                other = holder.pop()
                assert other.stdin is not None
                assert other.stdout is not None
                other.stdin.close()
                other.wait(timeout=30)
                other.stdout.close()

        try:
            yield Outage(database_url, lock, unlock)
        finally:
            unlock()
        return
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    try:
        yield Outage(
            url.set(port=port).render_as_string(hide_password=False),
            proxy.stop,
            proxy.resume,
            proxy.hang,
            proxy,
        )
    finally:
        await proxy.close()
