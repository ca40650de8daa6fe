"""What a platform hands in, held to the sizes storage keeps, before anything is stored.

PostgreSQL refuses a value longer than its column where SQLite stores it whole, so the same
message must never reach either: a display name is trimmed (it is only shown), an id too long
to be any platform's is refused (it identifies, and a cut one could name someone else).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from core.chat import Incoming

log = logging.getLogger(__name__)

# The columns' sizes (storage.models): names String(200), ids and keys String(64).
MAX_NAME = 200
MAX_ID = 64


def bounded(message: Incoming) -> Incoming | None:
    """The message with its name and username trimmed to fit, or None when an id does not fit."""
    ids = {
        "user_id": message.user_id,
        "chat_id": message.chat_id,
        "update_key": message.update_key,
    }
    too_long = [name for name, value in ids.items() if len(value) > MAX_ID]
    if too_long:
        log.warning(
            "%s message refused: %s longer than %d characters",
            message.platform,
            ", ".join(too_long),
            MAX_ID,
        )
        return None
    if len(message.user_name) <= MAX_NAME and len(message.user_handle) <= MAX_ID:
        return message
    return replace(
        message,
        user_name=message.user_name[:MAX_NAME],
        user_handle=message.user_handle[:MAX_ID],
    )
