"""What every command gets: the message, who sent it, the set-up and one unit of work."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.catalogue import Catalogue, Role, Unit
from core.chat import Incoming, Notifier
from core.submission import Sender
from storage import UnitOfWork


@dataclass(frozen=True)
class Actor:
    """The sender as the engine sees them: a role and, for an officer, a unit."""

    sender: Sender
    role: Role | None
    unit: Unit | None = None

    @property
    def is_staff(self) -> bool:
        """Leaders and admins see every unit."""
        return self.role in (Role.LEADER, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class Request:
    message: Incoming
    actor: Actor
    args: str  # text after the command, newlines kept
    catalogue: Catalogue
    uow: UnitOfWork
    chat_key: str  # the configured chat's key, or "" for a private chat
    now: Callable[[], datetime]  # the engine's clock (virtual in the simulator)
    notifiers: Sequence[Notifier] = ()  # for commands that post elsewhere (/nhacnho)
    files_dir: Path = Path(tempfile.gettempdir())  # where charts and exports are written


async def resolve_actor(catalogue: Catalogue, uow: UnitOfWork, message: Incoming) -> Actor:
    sender = Sender(message.platform, message.user_id, message.user_name)
    person = catalogue.person_for(message.platform, message.user_id)
    if person is None and message.platform in LOCAL_PLATFORMS:
        # The simulator and the console name people by their config key.
        person = catalogue.person_by_key(message.user_id)
    if person is not None:
        unit = catalogue.unit(person.unit) if person.unit else None
        return Actor(Sender(sender.platform, sender.user_id, person.name), person.role, unit)
    registration = await uow.registrations.approved_for(message.platform, message.user_id)
    if registration is not None and catalogue.has_unit(registration.unit):
        return Actor(sender, Role(registration.role), catalogue.unit(registration.unit))
    return Actor(sender, None)


LOCAL_PLATFORMS = frozenset({"sim", "console"})
