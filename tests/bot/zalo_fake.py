"""A fake Zalo Bot API over real HTTP (aiohttp on 127.0.0.1, a random port), and fixtures.

`/bot{token}/{method}`; every call is recorded; failures can be scripted per method (429 with
retry_after, 5xx, slow answers); sendPhoto fetches the photo URL over HTTP the way Zalo would.

What the documentation says, and what this fake therefore answers (read 2026-12 from the
official pages, https://bot.zaloplatforms.com/docs (APIs, webhook, "Nhóm Chat" guide, error
codes; mirrored at https://docs.zaloplatforms.com/docs/BOT/apis/getMe and
https://bot.zapps.me/docs/error-code/)):

- Every answer is a JSON object `{"ok": true, "result": …}` or `{"ok": false, "error_code",
  "description"}`. The HTTP status of an `ok: false` answer is not documented: refusals here
  come with HTTP 200 (`refuse`), and the bot must not depend on the status.
- `getMe` gives exactly `{"id", "account_name", "account_type", "can_join_groups"}`, e.g.
  `{"id": "1459232241454765289", "account_name": "bot.VDKyGxQvc", "account_type": "BASIC",
  "can_join_groups": false}`: no display name. `can_join_groups` is this fake's attribute,
  false by default as in the documentation's sample.
- `getUpdates` long-polls (`timeout`, seconds, default 30) and gives one update. When none
  came, the answer is error code 408 "Request timeout" (the error table: 400 bad request,
  401 unauthorized, 403 internal server error, 404 not found, 408 request timeout, 429 quota
  exceeded). `idle_status` picks the HTTP status of that answer (200 by default; 408 too).
- Groups: `chat.chat_type` is "PRIVATE" or "GROUP" ("sắp ra mắt", coming); the group guide
  says the feature is in internal testing, a group's leader adds the bot through its invite
  link, and in a group the bot receives only messages that reply to (quote) one of its own
  or mention it (a member types "@" and picks the bot's name; every bot's name starts with
  "Bot"). How a mention appears in `text` is not documented; `update()` writes `@Name`.
- The error codes and texts for a bot removed from a group, blocked, or a wrong chat id are
  not published: the ones `refuse` uses in the tests are examples, and the bot must not
  depend on them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from bot.media import MediaStore
from bot.zalo.bot import ZaloBot
from bot.zalo.client import ZaloClient
from core.catalogue import Catalogue
from handlers.engine import Engine
from storage import Database

TOKEN = "1459232241454765289:TOPSECRETxyzABC"
BOT_NAME = "Bot Báo Cáo 06"  # the name members pick after "@" (not in getMe)
ACCOUNT_NAME = "bot.VDKyGxQvc"  # getMe's account_name
GROUP_ID = "grp-binh-son"
ADMIN_ID = "zl-admin"
OFFICER_ID = "zl-lan"
LEADER_ID = "zl-leader"
# Saturday before the due Monday 2024-11-18 10:00 (ISO week 47).
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Scripted:
    status: int
    body: Any
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes


class FakeZalo:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[tuple[str, str]] = []  # (chat_id, text) of delivered messages
        self.photos: list[tuple[str, str, str]] = []  # (chat_id, url, caption)
        self.fetched: list[Fetched] = []
        self.updates: deque[dict[str, Any]] = deque()
        self.drained = asyncio.Event()  # set when getUpdates found the queue empty
        self._script: dict[str, deque[Scripted]] = {}
        self.refusals: dict[str, tuple[int, str]] = {}  # chat id -> (error_code, description)
        self.can_join_groups = False  # getMe's answer (the documentation's sample)
        self.webhook_url = ""  # what setWebhook set (another process's, in a test)
        self.idle_status = 200  # the HTTP status of an idle getUpdates' `ok: false` 408
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- scripting --------------------------------------------------------------------

    def fail(self, method: str, status: int, times: int = 1, **body: Any) -> None:
        payload = {"ok": False, "error_code": status, "description": f"scripted {status}", **body}
        for _ in range(times):
            self._script.setdefault(method, deque()).append(Scripted(status, payload))

    def refuse(self, chat_id: str, error_code: int = 400, description: str = "") -> None:
        """Sends to `chat_id` answer HTTP 200 `ok: false` until `allow(chat_id)`."""
        self.refusals[chat_id] = (error_code, description or "The bot cannot send to this chat")

    def allow(self, chat_id: str) -> None:
        self.refusals.pop(chat_id, None)

    def answer(self, method: str, status: int, body: Any) -> None:
        self._script.setdefault(method, deque()).append(Scripted(status, body))

    def slow(self, method: str, delay: float) -> None:
        self._script.setdefault(method, deque()).append(Scripted(0, None, delay))

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]

    # --- serving ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        # The access log is Zalo's side of the wire, where the token is in every path.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        body = await request.json() if request.can_read_body else {}
        self.calls.append((method, body))
        queue = self._script.get(method)
        if queue:
            scripted = queue.popleft()
            if scripted.delay:
                await asyncio.sleep(scripted.delay)
            if scripted.status:
                return web.json_response(scripted.body, status=scripted.status)
        return await self._answer(method, body)

    async def _answer(self, method: str, body: dict[str, Any]) -> web.Response:
        refusal = self.refusals.get(str(body.get("chat_id", "")))
        if method.startswith("send") and refusal is not None:
            code, description = refusal
            return web.json_response({"ok": False, "error_code": code, "description": description})
        if method == "getMe":
            return _ok(
                {
                    "id": "1459232241454765289",
                    "account_name": ACCOUNT_NAME,
                    "account_type": "BASIC",
                    "can_join_groups": self.can_join_groups,
                }
            )
        if method == "getUpdates":
            if not self.updates:
                self.drained.set()
                return web.json_response(
                    {"ok": False, "error_code": 408, "description": "Request timeout"},
                    status=self.idle_status,
                )
            return _ok(self.updates.popleft())
        if method == "sendMessage":
            text = body.get("text", "")
            if not isinstance(text, str) or not 1 <= len(text) <= 2000:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "text length"}, status=400
                )
            self.sent.append((str(body["chat_id"]), text))
            return _ok({"message_id": f"m{len(self.sent)}", "date": 1731722400000})
        if method == "sendPhoto":
            url = str(body["photo"])
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                data = await response.read()
                self.fetched.append(Fetched(url, response.status, response.content_type, data))
            if response.status != 200:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "cannot fetch photo"},
                    status=400,
                )
            self.photos.append((str(body["chat_id"]), url, str(body.get("caption", ""))))
            return _ok({"message_id": f"p{len(self.photos)}", "date": 1731722400000})
        if method == "setWebhook":
            self.webhook_url = str(body.get("url", ""))
        elif method == "deleteWebhook":
            self.webhook_url = ""
        if method in ("setWebhook", "deleteWebhook", "getWebhookInfo"):
            # getWebhookInfo: {"url", "updated_at"}; an empty url when none is set.
            return _ok({"url": self.webhook_url, "updated_at": 1749538250568})
        if method == "sendChatAction":
            return web.json_response({"ok": True})
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "no such method"}, status=404
        )


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def update(
    text: str | None,
    *,
    message_id: str = "msg-1",
    user: str = OFFICER_ID,
    name: str = "Lê Thị Lan",
    chat: str = GROUP_ID,
    group: bool = True,
    event: str = "message.text.received",
    at: datetime = SATURDAY,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(at.timestamp() * 1000),
        "chat": {"id": chat, "chat_type": "GROUP" if group else "PRIVATE"},
        "from": {"id": user, "display_name": name},
    }
    if text is not None:
        message["text"] = text
    return {"event_name": event, "message": message}


def zalo_catalogue(catalogue: Catalogue) -> Catalogue:
    """The Bình Sơn set-up with Zalo ids for the group, the admin, the leader and one officer."""
    ids = {"thuong_truc": ADMIN_ID, "cb_binh_long": OFFICER_ID, "lanh_dao": LEADER_ID}
    chats = tuple(
        dataclasses.replace(c, ids={**c.ids, "zalo": GROUP_ID}) if c.key == "nhom_bao_cao" else c
        for c in catalogue.chats
    )
    people = tuple(
        dataclasses.replace(p, ids={**p.ids, "zalo": ids[p.key]}) if p.key in ids else p
        for p in catalogue.people
    )
    return dataclasses.replace(catalogue, chats=chats, people=people)


class Sleeps:
    """An injectable sleep: records what was asked, yields to the loop, waits no time."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def fake_zalo() -> AsyncIterator[FakeZalo]:
    fake = FakeZalo()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


BotFactory = Callable[..., ZaloBot]


@pytest.fixture
async def make_bot(
    fake_zalo: FakeZalo, db: Database, catalogue: Catalogue, sleeps: Sleeps
) -> AsyncIterator[BotFactory]:
    bots: list[ZaloBot] = []

    def make(media: MediaStore | None = None, groups: bool = True, **options: Any) -> ZaloBot:
        """A bot as `start()` would leave it, without the start: `groups` is what getMe said
        of `can_join_groups` (True: group mode, the tests of group chats)."""
        client_options = {k: options.pop(k) for k in ("max_attempts", "timeout") if k in options}
        client = ZaloClient(TOKEN, fake_zalo.url, sleep=sleeps, **client_options)
        engine = Engine(zalo_catalogue(catalogue), db, lambda: SATURDAY)
        bot = ZaloBot(client, engine, media=media, sleep=sleeps, **options)
        bot.bot_name = ACCOUNT_NAME
        bot.can_join_groups = groups
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.stop()


async def serve(routes: list[web.RouteDef]) -> tuple[web.AppRunner, str]:
    """A test web server mounting `routes` (what the lead's shared server will do)."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
