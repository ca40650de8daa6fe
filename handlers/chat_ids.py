"""Where configured chats live now: the config's ids, unless a platform moved a chat.

Telegram gives a group a new id when it becomes a supergroup (the 400 answer with
`migrate_to_chat_id`, and the service messages `migrate_to_chat_id` / `migrate_from_chat_id`).
The new id is recorded in `chat_moves` for that configured chat; the config keeps the id it
was written with. Adapters (which may not read storage) go through this service: posts go to
the id a chat has now, and a message from the new id belongs to the configured chat at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from core.catalogue import Catalogue
from storage import Database

log = logging.getLogger(__name__)


@dataclass
class ChatIds:
    catalogue: Catalogue
    db: Database
    # (platform, chat key) -> id now; read once, then kept up to date by `moved`.
    _moved: dict[tuple[str, str], str] = field(default_factory=dict)
    _loaded: bool = False

    async def load(self) -> None:
        async with self.db.unit_of_work() as uow:
            self._moved = await uow.chat_moves.all()
        self._loaded = True

    async def current(self, platform: str, chat_key: str, configured: str) -> str:
        """The id to post to for the configured chat `chat_key` (configured id `configured`)."""
        if not self._loaded:
            await self.load()
        return self._moved.get((platform, chat_key), configured)

    def known_key(self, platform: str, chat_id: str) -> str | None:
        """The configured chat at `chat_id` from the config and the moves read so far."""
        chat = self.catalogue.chat_for(platform, chat_id)
        if chat is not None:
            return chat.key
        return next((k for (p, k), i in self._moved.items() if (p, i) == (platform, chat_id)), None)

    async def key_for(self, platform: str, chat_id: str) -> str | None:
        """`known_key`, else asked of the database: another process may have recorded the
        move (a chat not configured at all costs one short read per message)."""
        key = self.known_key(platform, chat_id)
        if key is not None:
            return key
        async with self.db.unit_of_work() as uow:
            key = await uow.chat_moves.key_for(platform, chat_id)
        if key is not None:
            self._moved[(platform, key)] = chat_id
        return key

    async def moved(self, platform: str, old_id: str, new_id: str, now: datetime) -> str | None:
        """Record that the chat at `old_id` is now at `new_id`; returns its key, or None when
        no configured chat was at `old_id` (nothing recorded)."""
        key = self.known_key(platform, old_id)
        if key is None:
            log.info("%s chat %s moved to %s; not a configured chat", platform, old_id, new_id)
            return None
        if self._moved.get((platform, key)) == new_id:
            return key
        async with self.db.unit_of_work() as uow:
            await uow.chat_moves.record(platform, key, old_id, new_id, now)
            await uow.commit()
        self._moved[(platform, key)] = new_id
        log.warning(
            "%s chat %r moved from %s to %s (recorded; the config still says %s)",
            platform,
            key,
            old_id,
            new_id,
            old_id,
        )
        return key
