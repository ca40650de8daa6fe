"""Neutral replies -> Zalo messages: plain text (Zalo shows no HTML), pages of at most 2000
characters split on line boundaries, tables as one line per row (phones have no monospace
font, so padded columns would not line up)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.zalo import texts
from core import messages as msg
from core.catalogue import Role
from core.chat import Block, Document, Photo, Reply, Table, Text

PAGE = 2000


def table_lines(table: Table) -> list[str]:
    """`1. Bình Long — 98,5% (1.234/1.250), ±tuần: +0,3`: the row's label first, the rate
    with its counts when the table has them, the other columns as `name: value`."""
    cols = list(table.columns)
    lines = [table.title] if table.title else []
    numbered = bool(cols) and cols[0] in (msg.COL_NO, "#", "STT")
    label = 1 if numbered and len(cols) > 1 else 0
    ratio = all(c in cols for c in (msg.COL_DONE, msg.COL_TOTAL, msg.COL_RATE))
    skip = {0, label} if numbered else {label}
    if ratio:
        skip |= {cols.index(msg.COL_DONE), cols.index(msg.COL_TOTAL), cols.index(msg.COL_RATE)}
    # A table without the counts (a group's narrow ranking) still leads with its rate.
    rate_only = not ratio and numbered and msg.COL_RATE in cols
    if rate_only:
        skip.add(cols.index(msg.COL_RATE))
    for row in table.rows:
        cells = list(row) + [""] * (len(cols) - len(row))
        head = (f"{cells[0]}. " if numbered else "") + cells[label]
        parts = []
        if ratio:
            done, total = cells[cols.index(msg.COL_DONE)], cells[cols.index(msg.COL_TOTAL)]
            parts.append(f"{cells[cols.index(msg.COL_RATE)]} ({done}/{total})")
        elif rate_only:
            parts.append(cells[cols.index(msg.COL_RATE)])
        parts += [
            f"{cols[i]}: {cells[i]}"
            for i in range(len(cols))
            if i not in skip and cells[i].strip()  # an empty cell says nothing on a phone
        ]
        lines.append(f"{head} — {', '.join(parts)}" if parts else head)
    return lines


def block_text(block: Block) -> str:
    """A block as plain text; photos and documents give their caption."""
    if isinstance(block, Text):
        return block.plain  # mentions as @Name: Zalo has no links
    if isinstance(block, Table):
        return "\n".join(table_lines(block))
    if isinstance(block, Document):
        return "\n".join(p for p in (block.caption, texts.ZALO_NO_FILES) if p)
    return block.caption


def buttons_text(buttons: Sequence[tuple[str, str]]) -> str:
    """Zalo has no inline buttons: the commands they would send, to type."""
    if not buttons:
        return ""
    return "\n".join(
        [texts.ZALO_BUTTONS_HINT, *(texts.zalo_button_line(lb, a) for lb, a in buttons)]
    )


def reply_text(reply: Reply, captions: bool = False) -> str:
    """Everything of `reply` that goes as text; photos go separately, by URL, unless
    `captions` (no public URL to send them by): then their captions go with the text."""
    parts = [block_text(b) for b in reply.blocks if captions or not isinstance(b, Photo)]
    parts.append(buttons_text(reply.buttons))
    return "\n\n".join(p for p in parts if p.strip())


def paginate(text: str, limit: int = PAGE) -> list[str]:
    """Pages of at most `limit` characters, cut between lines; a single longer line is cut
    hard as a last resort. Blank lines at a page's edges are dropped, nothing else is."""
    pages: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, size
        page = "\n".join(current).strip("\n")
        if page.strip():
            pages.append(page)
        current, size = [], 0

    for line in text.split("\n"):
        while len(line) > limit:
            flush()
            pages.append(line[:limit])
            line = line[limit:]
        added = len(line) + (1 if current else 0)
        if size + added > limit:
            flush()
            added = len(line)
        current.append(line)
        size += added
    flush()
    return pages


def render(reply: Reply, captions: bool = False, limit: int = PAGE) -> list[str]:
    return paginate(reply_text(reply, captions), limit)


def render_compact(
    replies: Iterable[Reply], captions: bool = False, limit: int = PAGE
) -> list[str]:
    """Several replies to one chat in as few pages as possible (the weekly digest: each
    message counts against the plan's monthly limit)."""
    bodies = [t for t in (reply_text(r, captions) for r in replies) if t]
    return paginate("\n\n".join(bodies), limit)


# Who gets a group's posts to forward in private mode (getMe: can_join_groups false). Here,
# not in bot.zalo.bot: the simulator shows the cards without loading the adapter (aiohttp).
FORWARDERS = (Role.LEADER, Role.ADMIN)


def forward_card(
    group: str, replies: Sequence[Reply], photos_after: int, captions: bool = False
) -> list[str]:
    """Private mode's card: a post for a group the bot cannot be in, compacted, with one line
    on top asking a leader or admin to forward it to `group`; the line counts the messages
    that follow the first (its other pages and `photos_after` photos)."""
    body = render_compact(replies, captions)
    after = len(body) - 1 + photos_after
    pages = render_compact(
        [Reply((Text.of(texts.forward_card(group, after)),)), *replies], captions
    )
    if len(pages) > len(body):  # the line itself took another page
        head = Reply((Text.of(texts.forward_card(group, after + 1)),))
        pages = render_compact([head, *replies], captions)
    return pages


def photos(reply: Reply) -> list[Photo]:
    return [b for b in reply.blocks if isinstance(b, Photo)]
