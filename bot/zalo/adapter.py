"""Zalo updates -> the engine's neutral `Incoming` messages.

An update is `{"event_name": "message.text.received", "message": {"message_id", "date" (ms),
"chat": {"id", "chat_type": "GROUP"|"PRIVATE"}, "from": {"id", "display_name"}, "text"}}`;
webhook bodies arrive bare or wrapped in `{"ok": true, "result": …}`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.chat import ChatType, Incoming

PLATFORM = "zalo"
TEXT_EVENT = "message.text.received"


@dataclass(frozen=True)
class NonText:
    """An image, a sticker or anything else the bot cannot read."""

    chat_id: str
    chat_type: ChatType
    message_id: str
    event_name: str
    user_id: str = ""  # the sender's id, when the update names one


def unwrap(body: Any) -> list[Mapping[str, Any]]:
    """The updates in a webhook body or a getUpdates result, whatever the shape."""
    if isinstance(body, Mapping) and "result" in body and "message" not in body:
        body = body["result"]
    if isinstance(body, list):
        return [u for u in body if isinstance(u, Mapping)]
    return [body] if isinstance(body, Mapping) else []


def message_id(update: Mapping[str, Any]) -> str:
    message = update.get("message")
    if not isinstance(message, Mapping):
        return ""
    value = message.get("message_id")
    return "" if value is None else str(value)


def parse_update(
    update: Mapping[str, Any], bot_name: str = "", now: datetime | None = None
) -> Incoming | NonText | None:
    """The neutral message, a NonText for media, or None for what is not a message at all."""
    message = update.get("message")
    if not isinstance(message, Mapping):
        return None
    chat = message.get("chat")
    sender = message.get("from")
    if not isinstance(chat, Mapping) or chat.get("id") is None:
        return None
    chat_id = str(chat["id"])
    is_group = str(chat.get("chat_type", "")).upper() == "GROUP"
    chat_type: ChatType = "group" if is_group else "private"
    event = str(update.get("event_name") or "")
    text = message.get("text")
    if (event and event != TEXT_EVENT) or not isinstance(text, str) or not text.strip():
        sender_id = sender.get("id") if isinstance(sender, Mapping) else None
        return NonText(
            chat_id,
            chat_type,
            message_id(update),
            event,
            "" if sender_id is None else str(sender_id),
        )
    if not isinstance(sender, Mapping) or sender.get("id") is None:
        return None
    user_id = str(sender["id"])
    name = next(
        (
            str(sender[k]).strip()
            for k in ("display_name", "first_name", "name")
            if isinstance(sender.get(k), str) and str(sender[k]).strip()
        ),
        user_id,
    )
    stripped, mentioned = strip_mention(text, bot_name)
    # In a group Zalo delivers only messages that @mention the bot or reply to it, so every
    # group message that reaches us is addressed to the bot.
    addressed = chat_type == "group" or mentioned
    return Incoming(
        platform=PLATFORM,
        chat_id=chat_id,
        chat_type=chat_type,
        user_id=user_id,
        user_name=name,
        text=stripped,
        sent_at=_sent_at(message.get("date"), now),
        message_id=message_id(update),
        reply_to_bot=addressed,
        # The engine records it in the same transaction as the report it carries.
        update_key=message_id(update),
    )


# Zalo's guide makes every bot's name start with "Bot" (`Bot MyShop`), and a member mentions
# the bot by typing "@" and picking that name; getMe does not give the name (it gives
# `account_name`, e.g. `bot.VDKyGxQvc`). So "@Bot …" up to a command or the end of its line is
# taken for the mention, wherever it sits. A line that goes on with a field (`:`) is left as it
# is: its end cannot be told from the name's.
_NAMED_MENTION = re.compile(
    r"(?:^|(?<=\s))@bot(?=\s|$)[^\n/:]*?(?:[ \t\u00a0]+(?=/)|[ \t\u00a0]*$)",
    re.IGNORECASE | re.MULTILINE,
)


def strip_mention(text: str, bot_name: str) -> tuple[str, bool]:
    """`@Bot Báo Cáo 06 /baocao …` -> (`/baocao …`, True): the mention is removed wherever it
    is (before the command, at the end of its line, alone on a line).

    `bot_name` is what getMe gives (`account_name`); every `@bot_name` is removed. The name
    members see is not in getMe: an `@Bot …` mention (every Zalo bot's name starts with
    "Bot") is removed up to the command or the end of its line, and failing both, a leading
    `@Someone` before a `/command` on the first line, or alone on a first line of several,
    is taken for the mention."""
    out = text.strip()
    found = False
    name = bot_name.strip()
    if name:
        pattern = re.compile("@" + re.escape(name) + r"[ \t\u00a0:,]*", re.IGNORECASE)
        out, count = pattern.subn("", out)
        found = count > 0
    out, count = _NAMED_MENTION.subn("", out)
    found = found or count > 0
    out = "\n".join(line.rstrip() for line in out.split("\n")).strip()
    if not found and out.startswith("@"):
        first, newline, rest = out.partition("\n")
        slash = first.find(" /")
        if slash > 0:
            out, found = out[slash + 1 :], True
        elif newline and "/" not in first and ":" not in first:
            out, found = rest, True
    return out.strip(), found


class BadUpdate(ValueError):
    """An update the bot refuses to act on (its message cannot be placed in time)."""


# A message's time decides its week: one before the programme or after the next year is a
# forged or broken update, not a report to file under some week.
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)


def _sent_at(value: Any, now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if value is None:
        return now
    try:
        millis = float(value)
    except (TypeError, ValueError):
        return now
    if not math.isfinite(millis):
        raise BadUpdate(f"date {value!r} is not a time")
    # Seconds rather than milliseconds would land in 1970: accept both.
    seconds = millis / 1000 if abs(millis) > 1e11 else millis
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadUpdate(f"date {value!r} is out of range") from None
    if not EARLIEST <= moment <= now + timedelta(days=366):
        raise BadUpdate(f"date {value!r} ({moment:%Y-%m-%d}) is not a plausible send time")
    return moment
