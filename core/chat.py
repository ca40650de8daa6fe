"""Platform-neutral messages: what adapters hand to handlers and what handlers hand back.

Replies are data (text with spans, tables as rows, images, files); each platform renders
them its own way (Telegram HTML, Zalo plain text, the console and simulator plain text).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

ChatType = Literal["group", "private"]


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name and size as the platform announced them, and
    either its bytes (`data`: the simulator, the console, tests) or a way to download them
    (`fetch`: Telegram's getFile, called only once the size was found acceptable)."""

    name: str
    size: int  # bytes, as announced; 0 when the platform did not say
    data: bytes | None = field(default=None, repr=False)
    fetch: Callable[[], Awaitable[bytes]] | None = field(default=None, repr=False, compare=False)

    async def read(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.fetch is None:
            raise ValueError("the attachment has neither bytes nor a way to fetch them")
        return await self.fetch()


@dataclass(frozen=True)
class Incoming:
    platform: str  # "telegram", "zalo", "sim", "console"
    chat_id: str
    chat_type: ChatType
    user_id: str
    user_name: str
    text: str
    sent_at: datetime  # the message's own timestamp, timezone-aware
    message_id: str = ""
    reply_to_bot: bool = False
    # The platform's id of the delivery (Telegram's update_id): recorded in the same
    # transaction as the work it caused, so a redelivered update is handled once.
    update_key: str = ""
    # Forwarded from someone else's message (Telegram's forward_origin): its figures, unit and
    # time are another person's, so it is never taken as the sender's report.
    forwarded: bool = False
    # When the sender edited the message (`sent_at` stays the original time): an edited report
    # is a correction of the report it was.
    edited_at: datetime | None = None
    # The sender's platform username (Telegram's `from.username`, without the @), if any:
    # unlike the display name it is unique, so admins can tell two "Nguyễn Văn A" apart.
    user_handle: str = ""
    # A file sent with the message (a Telegram document); `text` is then its caption.
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Bold:
    text: str


PlatformIds = tuple[tuple[str, str], ...]  # (platform, id) pairs, e.g. (("telegram", "42"),)


def id_on(ids: PlatformIds, platform: str) -> str | None:
    return next((i for p, i in ids if p == platform), None)


@dataclass(frozen=True)
class Mention:
    """Names a person so the platform notifies them; `ids` are their user ids per platform
    (a platform with no id for them shows the name only)."""

    name: str
    ids: PlatformIds = ()


Span = str | Bold | Mention


@dataclass(frozen=True)
class Text:
    spans: tuple[Span, ...]

    @classmethod
    def of(cls, *spans: Span) -> Text:
        return cls(tuple(spans))

    @property
    def plain(self) -> str:
        return "".join(_plain_span(s) for s in self.spans)


@dataclass(frozen=True)
class Table:
    """Rows of cells; `align` has one letter per column, `l` or `r`."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str = ""
    title: str = ""

    def alignment(self, index: int) -> str:
        return self.align[index] if index < len(self.align) else "l"


@dataclass(frozen=True)
class Photo:
    path: Path
    caption: str = ""


@dataclass(frozen=True)
class Document:
    path: Path
    caption: str = ""


Block = Text | Table | Photo | Document


@dataclass(frozen=True)
class Reply:
    """Blocks for one chat.

    `chat_id` is empty for the chat the message came from, or a configured chat's key
    (`[chats.<key>]` in the config, e.g. "nhom_bao_cao"), never a platform's id: every
    adapter maps the key to its own id for that chat, and a chat with no id on a platform
    gets nothing there. The simulator and the console name chats by key already.
    """

    blocks: tuple[Block, ...]
    chat_id: str = ""
    buttons: tuple[tuple[str, str], ...] = field(default=())  # (label, action) pairs


@dataclass(frozen=True)
class Recipient:
    """Where a post that answers no message goes (reminders, digests, nudges).

    `key` is a configured chat's key or a person's key (what the simulator and the console
    use); `ids` are the chat's or the person's ids on each platform. `group` tells a group
    chat from a person's private chat. `topics` names, per platform, the part of the chat
    posts go to (a Telegram forum's topic, `[chats.KEY] telegram_topic`); none: the chat's
    main thread.
    """

    key: str
    name: str
    ids: PlatformIds = ()
    group: bool = True
    topics: PlatformIds = ()


class Notifier(Protocol):
    """One chat platform's way to post. Returns False when the recipient has no id on this
    platform (nothing was sent); raises when the platform failed after its own retries."""

    platform: str

    async def post(self, to: Recipient, message: Reply) -> bool: ...


@runtime_checkable
class BatchNotifier(Notifier, Protocol):
    """A platform that can put several posts to one recipient into fewer messages."""

    async def post_many(self, to: Recipient, messages: Sequence[Reply]) -> bool: ...


class WindowsUnavailable(Exception):
    """The shared send windows could not be consulted (the database failed or was slow)."""


@dataclass(frozen=True)
class SendWindow:
    """At most `limit` sends in any `seconds` within `scope` (a bot, one group chat of it)."""

    scope: str
    limit: int
    seconds: float


class SendWindows(Protocol):
    """Send windows shared by every worker of a deployment (`storage.send_windows`).

    `reserve(windows)` books one send in every window given (e.g. a group chat's, then the
    bot's) so that none ever holds more than its limit, counted over all workers, and returns
    `(seconds to wait, booked)`. Booked: send after the wait. Not booked (a window before the
    last is full): nothing was booked; ask again after the wait, so a send waiting for a
    group's minute holds no slot of the bot's second. Raises WindowsUnavailable when the
    shared state cannot be reached; the caller then falls back to its own process's windows."""

    async def reserve(self, windows: Sequence[SendWindow]) -> tuple[float, bool]: ...


def reply(*blocks: Block | str) -> Reply:
    return Reply(tuple(Text.of(b) if isinstance(b, str) else b for b in blocks))


def _plain_span(span: Span) -> str:
    if isinstance(span, Mention):
        return "@" + span.name
    if isinstance(span, Bold):
        return span.text
    return span


def render_table_plain(table: Table) -> str:
    """A monospace table: columns padded to their widest cell."""
    grid = [table.columns, *table.rows]
    widths = [max(len(row[i]) for row in grid) for i in range(len(table.columns))]
    lines = []
    for n, row in enumerate(grid):
        cells = [
            cell.rjust(widths[i]) if table.alignment(i) == "r" else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if table.title:
        lines.insert(0, table.title)
    return "\n".join(lines)


def render_plain(blocks: tuple[Block, ...]) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, Text):
            parts.append(block.plain)
        elif isinstance(block, Table):
            parts.append(render_table_plain(block))
        else:
            parts.append(block.caption)
    return "\n\n".join(p for p in parts if p)
