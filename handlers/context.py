"""What every command gets: the message, who sent it, the set-up and the database, from which
it opens its own short transaction (`Request.transaction`)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.catalogue import Catalogue, Person, Role, Unit
from core.chat import Incoming, Notifier, Reply
from core.submission import Sender
from handlers.outbox import OutboxRunner, encode
from storage import Database, UnitOfWork


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


class AlreadyHandled(Exception):
    """The message's update was handled before (a platform's redelivery): answer nothing.
    Not a `Refusal`, so no command can catch it by accident."""


@dataclass
class Delivery:
    """Whether the message's update key is stored yet, and whether a transaction is open."""

    recorded: bool = False
    open: bool = False


@dataclass(frozen=True)
class Request:
    message: Incoming
    actor: Actor
    args: str  # text after the command, newlines kept
    catalogue: Catalogue
    db: Database
    chat_key: str  # the configured chat's key, or "" for a private chat
    now: Callable[[], datetime]  # the engine's clock (virtual in the simulator)
    notifiers: Sequence[Notifier] = ()  # for commands that post elsewhere (/nhacnho)
    # Sends what such a command enqueued; None: one that drains in this task.
    outbox: OutboxRunner | None = None
    # Where charts and exports are written (the engine makes its directory on first use).
    files: Callable[[], Path] = field(default=lambda: Path(tempfile.gettempdir()))
    delivery: Delivery = field(default_factory=Delivery)

    @property
    def files_dir(self) -> Path:
        return self.files()

    def postman(self) -> OutboxRunner:
        """The outbox runner this command's posts go through."""
        return self.outbox or OutboxRunner(self.catalogue, self.db, self.notifiers, clock=self.now)

    async def commit_answer(self, uow: UnitOfWork, replies: list[Reply]) -> list[Reply]:
        """Commit the command's transaction with its replies kept beside the update's record;
        returns them. A worker that dies after this commit and before the replies reached
        the chat leaves the update to be handled again (the inbox, a polling redelivery):
        that handling sends the kept replies instead of answering nothing
        (`Engine.handle`), so what a command stored is never left unanswered. Called last
        in a `transaction()` block, by the commands that store something."""
        if not self.delivery.open:
            raise RuntimeError("commit_answer belongs inside the command's transaction")
        key = self.message.update_key
        if key:
            await uow.updates.keep(self.message.platform, key, [encode(r) for r in replies])
        await uow.commit()
        return replies

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """The command's unit of work, around its data access only (never around drawing
        charts or sending: on SQLite every transaction holds the one write lock). A command
        that stores something ends it with `commit_answer`, its answer's text composed
        inside (formatting only), so the answer is kept with what it answers.

        Its first statement records the message's update key, so whatever the command
        stores is stored with it: a redelivered update raises `AlreadyHandled` here (the
        engine then sends what was kept, if anything), and one whose first delivery crashed
        before the commit is handled again. The block's end commits (a no-op after the
        command's own commit); an exception, a `Refusal` among them, rolls everything back,
        the key included. Never nested: on SQLite a second one would wait for the first
        forever.
        """
        if self.delivery.open:
            raise RuntimeError("a command's transactions run one after another, never nested")
        self.delivery.open = True
        try:
            async with self.db.unit_of_work() as uow:
                key = self.message.update_key
                platform = self.message.platform
                if (
                    key
                    and not self.delivery.recorded
                    and not await uow.updates.first_time(platform, key, self.now())
                ):
                    raise AlreadyHandled(key)
                yield uow
                await uow.commit()
                self.delivery.recorded = True
        finally:
            self.delivery.open = False


def configured_person(catalogue: Catalogue, message: Incoming) -> Person | None:
    """The sender as a person of the config, if they are one (no database needed)."""
    person = catalogue.person_for(message.platform, message.user_id)
    if person is None and message.platform in LOCAL_PLATFORMS:
        # The simulator and the console name people by their config key.
        person = catalogue.person_by_key(message.user_id)
    return person


async def resolve_actor(catalogue: Catalogue, db: Database, message: Incoming) -> Actor:
    """People in the config need no database; anyone else is looked up among the approved
    registrations in one short read."""
    sender = Sender(message.platform, message.user_id, message.user_name)
    person = configured_person(catalogue, message)
    if person is not None:
        unit = catalogue.unit(person.unit) if person.unit else None
        return Actor(Sender(sender.platform, sender.user_id, person.name), person.role, unit)
    async with db.unit_of_work() as uow:
        registration = await uow.registrations.approved_for(message.platform, message.user_id)
    if registration is not None and catalogue.has_unit(registration.unit):
        return Actor(sender, Role(registration.role), catalogue.unit(registration.unit))
    return Actor(sender, None)


LOCAL_PLATFORMS = frozenset({"sim", "console"})
