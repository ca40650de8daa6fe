"""Neutral replies as Telegram HTML messages.

Every user- or config-supplied string is escaped; tables go in `<pre>` blocks; mentions become
`tg://user?id=` links when the person has a Telegram id. A reply longer than one message is
split on line boundaries, and every piece is valid HTML on its own: a `<pre>` block that spans
two messages is closed and reopened, and no tag ever spans a line.
"""

from __future__ import annotations

import html
import re

from core.chat import Block, Bold, Mention, Span, Table, Text, id_on, render_table_plain

PLATFORM = "telegram"
# Telegram's limit is 4096 characters of the parsed text, counted in UTF-16 code units. The
# HTML we send is never shorter than the text it parses to, so measuring the HTML is safe.
MESSAGE_LIMIT = 4096
_TAG = re.compile(r"<[^>]+>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def span_html(span: Span) -> str:
    """One span; a span with line breaks is tagged line by line, so no tag spans a line."""
    if isinstance(span, Mention):
        user_id = id_on(span.ids, PLATFORM)
        if user_id is None or not user_id.lstrip("-").isdigit():
            return "\n".join(
                f"<b>{escape(part)}</b>" if part else "" for part in span.name.split("\n")
            )
        return f'<a href="tg://user?id={user_id}">{escape(span.name)}</a>'
    if isinstance(span, Bold):
        return "\n".join(f"<b>{escape(part)}</b>" if part else "" for part in span.text.split("\n"))
    return escape(span)


Line = tuple[str, bool]  # (HTML with balanced tags, inside a <pre> block)
_PRE_COST = len("<pre></pre>")


def _lines(blocks: tuple[Block, ...]) -> list[Line]:
    out: list[Line] = []
    for block in blocks:
        if isinstance(block, Text):
            lines = [(line, False) for line in "".join(map(span_html, block.spans)).split("\n")]
        elif isinstance(block, Table):
            lines = [(escape(line), True) for line in render_table_plain(block).split("\n")]
        else:
            continue  # photos and documents are sent on their own
        if out and lines:
            out.append(("", False))
        out.extend(lines)
    return out


def _join(lines: list[Line]) -> str:
    parts: list[str] = []
    for n, (line, pre) in enumerate(lines):
        opens = pre and (n == 0 or not lines[n - 1][1])
        closes = pre and (n + 1 == len(lines) or not lines[n + 1][1])
        parts.append(("<pre>" if opens else "") + line + ("</pre>" if closes else ""))
    return "\n".join(parts)


def to_html(blocks: tuple[Block, ...], limit: int = MESSAGE_LIMIT) -> list[str]:
    """The text blocks of a reply as messages of at most `limit`, split between lines."""
    messages: list[list[Line]] = [[]]
    size = 0
    for text, pre in _lines(blocks):
        for piece in _fit(text, limit - _PRE_COST - 1):
            current = messages[-1]
            cost = utf16_len(piece) + 1
            if pre and (not current or not current[-1][1]):
                cost += _PRE_COST
            if current and size + cost > limit:
                messages.append([])
                current, size = messages[-1], 0
                cost = utf16_len(piece) + 1 + (_PRE_COST if pre else 0)
            current.append((piece, pre))
            size += cost
    return [text for text in (_join(_trim(m)) for m in messages) if text]


def _trim(lines: list[Line]) -> list[Line]:
    """Blank lines at either end of a message are dropped (outside <pre>)."""
    start, end = 0, len(lines)
    while start < end and lines[start] == ("", False):
        start += 1
    while end > start and lines[end - 1] == ("", False):
        end -= 1
    return lines[start:end]


def _fit(line: str, limit: int) -> list[str]:
    """A line too long for one message, cut into pieces that each fit. Tags are dropped from
    such a line (only pasted text is ever this long), so no cut falls inside a tag."""
    if utf16_len(line) <= limit:
        return [line]
    plain = html.unescape(_TAG.sub("", line))
    pieces: list[str] = []
    piece: list[str] = []
    size = 0
    for char in plain:
        escaped = escape(char)
        cost = utf16_len(escaped)
        if size + cost > limit:
            pieces.append("".join(piece))
            piece, size = [], 0
        piece.append(escaped)
        size += cost
    if piece:
        pieces.append("".join(piece))
    return pieces


def parsed_text(message_html: str) -> str:
    """What Telegram shows for an HTML message (used to check lengths)."""
    return html.unescape(_TAG.sub("", message_html))
