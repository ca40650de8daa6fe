"""A fake Telegram Bot API server: real HTTP on 127.0.0.1, a random port, `/bot{token}/{method}`.

It records every call, keeps an update queue for `getUpdates` (offset and long-poll timeout as
the real server), refuses what the real server refuses (messages over 4096 characters, HTML
that does not parse) with the real errors, and can be told to answer 429 with `retry_after`,
a 5xx, or to rate-limit messages above a number per second. `enforce_limits()` makes it keep
Telegram's flood limits as documented: about 30 messages a second per bot and at most 20 a
minute to one group, above which the bot gets 429 with `retry_after`
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this; the
ResponseParameters object: https://core.telegram.org/bots/api#responseparameters); it counts
what it accepted and what it refused (`accepted`, `refused_429`).

Per chat it can answer the way the Bot API refuses a send (`refuse`), and refuse a webhook
(`refuse_webhook`). Like the real server it answers getUpdates 409 while a webhook is set, and
ends a waiting getUpdates with 409 when another one arrives (two pollers on one token). It
knows the forum topics of each chat (`open_topic`, and any topic a pushed update was posted
in) and refuses a send to any other `message_thread_id` as the real server does. Every error
has the documented shape: `{"ok": false, "error_code", "description", "parameters"?}` with
the HTTP status equal to `error_code` (https://core.telegram.org/bots/api#making-requests),
`parameters` being a ResponseParameters
object: `migrate_to_chat_id` or `retry_after` (https://core.telegram.org/bots/api#responseparameters).
python-telegram-bot reads `parameters` first (ChatMigrated, RetryAfter), then the status
(403 Forbidden, 400 BadRequest).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token-never-in-logs"
BOT_ID = 123456
BOT_USERNAME = "DeAn06TestBot"
JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "commands",
    "scope",
    "allowed_updates",
    "media",
    "link_preview_options",
}
INT_FIELDS = {"offset", "timeout", "limit", "message_id", "message_thread_id"}
_TAG = re.compile(r"</?([a-z-]+)(?:\s[^>]*)?>")
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "s", "a", "code", "pre", "tg-spoiler", "blockquote"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200


@dataclass
class Fault:
    method: str
    status: int
    retry_after: int | None = None
    count: int = 1


@dataclass(frozen=True)
class Limits:
    """Telegram's flood limits as the fake enforces them: sliding windows over the sends
    it accepted (a refused send does not count)."""

    per_second: int = 30  # messages a second, all chats of the bot together
    per_group_minute: int = 20  # messages a minute to one group
    group_window: float = 60.0  # the minute, in seconds (tests shorten it)


@dataclass(frozen=True)
class Refusal:
    """How the real server refuses a send to one chat; the descriptions are the server's."""

    status: int
    description: str
    parameters: dict[str, Any] | None = None


# A bot removed from a group (https://core.telegram.org/bots/api#making-requests: 403s).
KICKED = Refusal(403, "Forbidden: bot was kicked from the group chat")
KICKED_SUPERGROUP = Refusal(403, "Forbidden: bot was kicked from the supergroup chat")
# A person who blocked the bot, or who never pressed Start: bots cannot write first.
BLOCKED = Refusal(403, "Forbidden: bot was blocked by the user")
NEVER_STARTED = Refusal(403, "Forbidden: bot can't initiate conversation with a user")
CHAT_NOT_FOUND = Refusal(400, "Bad Request: chat not found")


def migrated(new_chat_id: int) -> Refusal:
    """A group upgraded to a supergroup: 400 with ResponseParameters.migrate_to_chat_id."""
    return Refusal(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


def flood(retry_after: int) -> Refusal:
    """Flood control: 429 with ResponseParameters.retry_after (seconds)."""
    return Refusal(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def html_problem(text: str) -> str | None:
    """None when Telegram would parse the HTML, else its complaint."""
    stack: list[str] = []
    for match in _TAG.finditer(text):
        name = match.group(1)
        if name not in ALLOWED_TAGS:
            return f'Unsupported start tag "{name}"'
        if match.group(0).startswith("</"):
            if not stack or stack.pop() != name:
                return f'Unmatched end tag "{name}"'
        else:
            stack.append(name)
    if stack:
        return f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    if re.search(r"<(?![a-z/])", text) or re.search(r"&(?!(lt|gt|amp|quot|#\d+);)", text):
        return "Unexpected character"
    return None


def parsed(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


class FakeBotApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        # Calls that are carried out, then answered only after a delay: what a client whose
        # read timeout runs out first sees, although the message reached the chat.
        self.slow_answers: dict[str, float] = {}
        self.rate_limit: float | None = None  # messages per second before 429
        self._sent_times: deque[float] = deque()
        self.limits: Limits | None = None  # enforce_limits()
        self.clock: Callable[[], float] = time.monotonic  # the limits' clock
        self._accepted_times: deque[float] = deque()  # the last second's accepted sends
        self._group_times: dict[int, deque[float]] = {}  # per group, the last minute's
        self.accepted: list[tuple[int, float]] = []  # (chat id, time.monotonic()) per send
        self.refused_429: list[tuple[int, float]] = []  # the same, refused by the limits
        self._new_update = asyncio.Event()
        self._poll: object | None = None  # the newest getUpdates call
        self._message_ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self.webhook: dict[str, Any] = {}
        self.refusals: dict[int, Refusal] = {}  # chat id -> how sends to it are refused
        self.topics: dict[int, set[int]] = {}  # chat id -> its forum topics' thread ids
        self.webhook_refusal: str | None = None
        self.fetch_files: dict[str, bytes] = {}
        # Files users sent (`send_file`): file_id -> (file_path, bytes), served by getFile and
        # the download endpoint.
        self.user_files: dict[str, tuple[str, bytes]] = {}
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # --- server -------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.root

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()  # releases long polls still waiting
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test helpers -------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        message = update.get("message") or {}
        if message.get("is_topic_message"):
            self.open_topic(message["chat"]["id"], message["message_thread_id"])
        self.updates.append(update)
        self._new_update.set()
        return update

    def send_file(self, name: str, data: bytes, size: int | None = None) -> dict[str, Any]:
        """A file a user sends, kept for getFile and the download; its `Document` object
        (https://core.telegram.org/bots/api#document). `size` overrides the announced size."""
        n = len(self.user_files) + 1
        file_id = f"BQACAgIAAxkBAAI{n:04d}"
        self.user_files[file_id] = (f"documents/file_{n}.xlsx", data)
        return {
            "file_id": file_id,
            "file_unique_id": f"AgAD{n:04d}",
            "file_name": name,
            "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "file_size": len(data) if size is None else size,
        }

    def replay(self, update: dict[str, Any]) -> None:
        """The same update again, as after a lost confirmation."""
        self.updates.append(dict(update))
        self._new_update.set()

    def fail(
        self, method: str, status: int, retry_after: int | None = None, count: int = 1
    ) -> None:
        self.faults.append(Fault(method, status, retry_after, count))

    def enforce_limits(self, limits: Limits | None = None) -> None:
        """From now on, a send above Telegram's limits (`Limits`) is answered 429 with
        `retry_after` (whole seconds until the window has room again, at least 1)."""
        self.limits = limits or Limits()

    def _within_limits(self, chat_id: int) -> int | None:
        """None when a send to `chat_id` is within the limits (it is then counted as accepted),
        else the `retry_after` to answer."""
        assert self.limits is not None
        now = self.clock()
        overall = self._accepted_times
        while overall and now - overall[0] >= 1.0:
            overall.popleft()
        group = self._group_times.setdefault(chat_id, deque()) if chat_id < 0 else None
        while group and now - group[0] >= self.limits.group_window:
            group.popleft()
        wait = 0.0
        if len(overall) >= self.limits.per_second:
            wait = overall[0] + 1.0 - now
        if group is not None and len(group) >= self.limits.per_group_minute:
            wait = max(wait, group[0] + self.limits.group_window - now)
        if wait > 0:
            self.refused_429.append((chat_id, now))
            return max(1, math.ceil(wait))
        overall.append(now)
        if group is not None:
            group.append(now)
        self.accepted.append((chat_id, now))
        return None

    def answer_late(self, method: str, seconds: float) -> None:
        """The next call of `method` is carried out (the message is sent) but answered only
        after `seconds`."""
        self.slow_answers[method] = seconds

    def refuse(self, chat_id: int, refusal: Refusal) -> None:
        """Every send to `chat_id` is refused this way until `allow(chat_id)`."""
        self.refusals[chat_id] = refusal

    def allow(self, chat_id: int) -> None:
        """The bot is back in the chat (re-added, unblocked, Start pressed)."""
        self.refusals.pop(chat_id, None)

    def open_topic(self, chat_id: int, thread_id: int) -> None:
        """A forum topic exists in `chat_id` (created by someone in the group)."""
        self.topics.setdefault(chat_id, set()).add(thread_id)

    def refuse_webhook(self, description: str) -> None:
        """setWebhook answers 400 with this description, e.g. "Bad Request: bad webhook:
        Webhook can be set up only on ports 80, 88, 443 or 8443"."""
        self.webhook_refusal = description

    def sent(self, method: str = "sendMessage") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [
            c.params["text"]
            for c in self.sent()
            if chat_id is None or int(c.params["chat_id"]) == chat_id
        ]

    async def wait_for(self, predicate: Any, within: float = 10.0) -> None:
        """Until `predicate(self)` holds (polling the recorded calls)."""
        deadline = time.monotonic() + within
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(
                    "fake Bot API: condition not met; calls: "
                    + ", ".join(f"{c.method}:{c.status}" for c in self.calls[-30:])
                )
            await asyncio.sleep(0.02)

    # --- the API ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read(request)
        call = Call(method, params, files)
        self.calls.append(call)
        fault = self._fault(method)
        if fault is not None:
            call.status = fault.status
            if fault.status == 429:
                return _error(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after or 1},
                )
            return _error(fault.status, "Internal Server Error")
        if method.startswith("send") and self.rate_limit is not None:
            now = time.monotonic()
            while self._sent_times and now - self._sent_times[0] > 1.0:
                self._sent_times.popleft()
            if len(self._sent_times) >= self.rate_limit:
                call.status = 429
                return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            self._sent_times.append(now)
        if method.startswith("send") and "chat_id" in params:
            refusal = self.refusals.get(_int(params["chat_id"]))
            if refusal is not None:
                call.status = refusal.status
                return _error(refusal.status, refusal.description, refusal.parameters)
            if self.limits is not None:
                retry_after = self._within_limits(_int(params["chat_id"]))
                if retry_after is not None:
                    call.status = 429
                    return _error(
                        429,
                        f"Too Many Requests: retry after {retry_after}",
                        {"retry_after": retry_after},
                    )
        # A thread id that is no topic of the chat (never was, or deleted): 400
        # (message_thread_id is "for forum supergroups only",
        # https://core.telegram.org/bots/api#sendmessage; the description as the server
        # gives it: https://github.com/tdlib/telegram-bot-api/issues/472).
        thread = params.get("message_thread_id")
        if (
            method.startswith("send")
            and thread is not None
            and _int(thread) not in self.topics.get(_int(params.get("chat_id")), set())
        ):
            call.status = 400
            return _error(400, "Bad Request: message thread not found")
        handler = getattr(self, "api_" + method, None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params, files)
        except _ApiError as exc:
            call.status = exc.status
            return _error(exc.status, exc.description)
        late = self.slow_answers.pop(method, None)
        if late is not None:
            await asyncio.sleep(late)
        return web.json_response({"ok": True, "result": result})

    def _fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method in (method, "*") and fault.count > 0:
                fault.count -= 1
                return fault
        return None

    async def api_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Đề án 06",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def api_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        # Two refusals of the real server (tdlib/telegram-bot-api, telegram-bot-api/Client.cpp;
        # the descriptions as it gives them): getUpdates while a webhook is set ("This method
        # will not work if an outgoing webhook is set up",
        # https://core.telegram.org/bots/api#getupdates), and a newer getUpdates ends the one
        # still waiting, which is answered 409 "terminated by other getUpdates request".
        if self.webhook.get("url"):
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        poll = self._poll = object()
        self._new_update.set()  # wakes the poll still waiting: it is ended by this one
        offset = int(params.get("offset", 0) or 0)
        if offset:
            # Confirmed: updates below the offset are forgotten, as on the real server.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout", 0) or 0)
        deadline = time.monotonic() + timeout
        while True:
            if poll is not self._poll:
                raise _ApiError(409, CONFLICT)
            ready = [u for u in self.updates if u["update_id"] >= offset]
            if ready or self._closing or time.monotonic() >= deadline:
                return ready[: int(params.get("limit", 100) or 100)]
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())

    async def api_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        """https://core.telegram.org/bots/api#getfile: a File object whose `file_path` is
        downloaded from `https://api.telegram.org/file/bot<token>/<file_path>` (`_download`)."""
        file_id = str(params.get("file_id", ""))
        if file_id not in self.user_files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, data = self.user_files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": "AgAD" + file_id[-4:],
            "file_size": len(data),
            "file_path": path,
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        self.calls.append(Call("download", {"file_path": path}, {}))
        for stored, data in self.user_files.values():
            if stored == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return _error(404, "Not Found")

    async def api_getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        """A WebhookInfo (https://core.telegram.org/bots/api#webhookinfo): "If the bot is
        using getUpdates, will return an object with the url field empty"."""
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def api_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = {}
        return True

    async def api_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if self.webhook_refusal is not None:
            raise _ApiError(400, self.webhook_refusal)
        self.webhook = params
        return True

    async def api_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def api_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def api_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            problem = html_problem(text)
            if problem:
                raise _ApiError(400, f"Bad Request: can't parse entities: {problem}")
            shown = parsed(text)
        else:
            shown = text
        if not shown.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(shown) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._message(params, text=shown)

    async def api_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._message(params, text=parsed(str(params.get("text", ""))))

    async def api_editMessageReplyMarkup(
        self, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        return self._message(params, text="")

    async def api_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._media("photo", params, files)

    async def api_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._media("document", params, files)

    def _media(self, kind: str, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in files:
                raise _ApiError(400, f"Bad Request: file {name} not found in the request")
            files[kind] = files[name]
        if kind not in files:
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        if not files[kind]:
            raise _ApiError(400, "Bad Request: file must be non-empty")
        extra: dict[str, Any] = {}
        if kind == "photo":
            extra["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}]
        else:
            extra["document"] = {"file_id": "d1", "file_unique_id": "u2"}
        return self._message(params, text=None, **extra)

    def _message(self, params: dict[str, Any], text: str | None, **extra: Any) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Đề án 06"},
            **extra,
        }
        if text:
            message["text"] = text
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = int(params["message_thread_id"])
            message["is_topic_message"] = True
        return message


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def _read(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        params = dict(await request.json())
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            name = part.name or ""
            if part.filename is not None:
                files[name] = bytes(await part.read())
            else:
                params[name] = await part.text()
    else:
        form = await request.post()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
    for key, value in list(params.items()):
        if isinstance(value, str) and key in JSON_FIELDS:
            params[key] = json.loads(value)
        elif isinstance(value, str) and key in INT_FIELDS and value.lstrip("-").isdigit():
            params[key] = int(value)
    return params, files


# --- updates as Telegram sends them -------------------------------------------------------------

_message_ids = itertools.count(1)


def user(user_id: int, name: str = "Cán bộ") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name}


def text_update(
    chat_id: int,
    user_id: int,
    text: str,
    *,
    date: datetime | None = None,
    name: str = "Cán bộ",
    reply_to_bot: bool = False,
) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    if chat_id < 0:
        chat["title"] = "Nhóm"
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int((date or datetime.now(UTC)).timestamp()),
        "chat": chat,
        "from": user(user_id, name),
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split()[0]) if text.split() else 1
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    if reply_to_bot:
        message["reply_to_message"] = {
            "message_id": 999,
            "date": message["date"],
            "chat": chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Đề án 06"},
            "text": "…",
        }
    return {"message": message}


def document_update(
    chat_id: int, user_id: int, document: dict[str, Any], caption: str = "", name: str = "Cán bộ"
) -> dict[str, Any]:
    """A message carrying a file (`FakeTelegram.send_file`'s Document)."""
    update = text_update(chat_id, user_id, "", name=name)
    message = update["message"]
    del message["text"]
    message["document"] = document
    if caption:
        message["caption"] = caption
    return update


def button_update(
    chat_id: int, user_id: int, data: str, message_id: int = 999, date: datetime | None = None
) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    return {
        "callback_query": {
            "id": str(next(_message_ids)),
            "from": user(user_id),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int((date or datetime.now(UTC)).timestamp()),
                "chat": chat,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Đề án 06"},
                "text": "…",
            },
        }
    }


def migration_updates(old_chat_id: int, new_chat_id: int) -> list[dict[str, Any]]:
    """The two service messages Telegram sends when a group becomes a supergroup: in the old
    group `migrate_to_chat_id`, in the new supergroup `migrate_from_chat_id`
    (https://core.telegram.org/bots/api#message)."""
    date = int(datetime.now(UTC).timestamp())
    someone = user(1, "Quản trị")
    return [
        {
            "message": {
                "message_id": next(_message_ids),
                "date": date,
                "chat": {"id": old_chat_id, "type": "group", "title": "Nhóm"},
                "from": someone,
                "migrate_to_chat_id": new_chat_id,
            }
        },
        {
            "message": {
                "message_id": next(_message_ids),
                "date": date,
                "chat": {"id": new_chat_id, "type": "supergroup", "title": "Nhóm"},
                "from": someone,
                "migrate_from_chat_id": old_chat_id,
            }
        },
    ]
