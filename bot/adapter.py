"""The one contract every chat platform implements (Telegram, Zalo).

An adapter translates and delivers: platform updates become `core.chat.Incoming` for
`Engine.handle`, and neutral `Reply` values become the platform's messages. It reads no
storage and decides no business rule; those live in `handlers` (the report form in
`handlers.drafts`, the message allowance in `handlers.quota`).

Delivery semantics, the same on every platform:

- **Stored or handled, then acknowledged.** A webhook's update is answered 200 once it is
  stored in the inbox (`inbox`, set by the runtime; `handlers.inbox`), which hands it to
  whichever worker handles that chat's updates, in order, through `handle_stored`; without
  an inbox (the tests, polling) an update is acknowledged (a webhook's 200, a polling
  offset, the next getUpdates) only after `Engine.handle` returned and its replies were sent
  or attempted. A process that dies in between gets the update again; the engine's update
  record (`Incoming.update_key`) makes sure it is handled once.
- **`Reply.chat_id`** is empty (the chat the message came from) or a configured chat's key,
  which the adapter maps to its platform id; a chat with no id on this platform gets nothing.
- **`post` / `post_many`** return False when the recipient has no id on this platform
  (nothing was sent) and raise `DeliveryFailed` when the platform did not take a message
  after the adapter's own retries (`unreachable` when it said the recipient cannot get the
  bot's messages at all); the caller then records nothing as made.
  `post_many` sends several posts to one recipient, compacted where the platform can.
- **`web_routes()`** are the webhook routes to mount on the shared web server before
  `start()` (which tells the platform the webhook URL); empty in polling mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from core.chat import Recipient, Reply
from handlers.notify import DeliveryFailed

if TYPE_CHECKING:
    from aiohttp import web

    from handlers.inbox import InboxRunner


class ChatAdapter(Protocol):
    platform: str
    inbox: InboxRunner | None

    async def handle_stored(self, body: dict[str, Any]) -> None:
        """Handle an update the inbox stored (its body as the platform sent it)."""
        ...

    async def start(self) -> None:
        """Connect, register the webhook or start polling; raises `StartupError` when the
        platform refuses the bot (a wrong token) or cannot be reached."""
        ...

    async def stop(self) -> None:
        """Stop taking updates (one in hand is finished first) and release the client."""
        ...

    def web_routes(self) -> list[web.RouteDef]: ...

    async def post(self, to: Recipient, message: Reply) -> bool: ...

    async def post_many(self, to: Recipient, messages: Sequence[Reply]) -> bool: ...


__all__ = ["ChatAdapter", "DeliveryFailed"]
