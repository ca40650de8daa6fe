"""The engine: one neutral message in, neutral replies out. Every platform calls `handle`."""

from __future__ import annotations

import errno
import logging
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError

from core import messages as msg
from core.catalogue import Catalogue, Role
from core.chat import Incoming, Notifier, Recipient, Reply, reply
from core.report import REPORT_HEAD, read_line, split_line
from handlers import commands, files
from handlers.chat_ids import ChatIds
from handlers.common import Refusal
from handlers.context import (
    LOCAL_PLATFORMS,
    Actor,
    AlreadyHandled,
    Delivery,
    Request,
    configured_person,
    resolve_actor,
)
from handlers.flood import WAY_IN, FloodGuard, Pace, SenderKey, SharedFloodGuard
from handlers.limits import bounded
from handlers.notify import Outgoing
from handlers.outbox import NOTICE_WINDOW, OutboxRunner, decode, enqueue, new_posts
from storage import Database

log = logging.getLogger(__name__)

# How long an answer handed to the outbox is tried (`Engine.answer_later`).
ANSWER_RETRIED = NOTICE_WINDOW


# PostgreSQL's SQLSTATE for "disk full"; the rest of class 53 (too many connections, out of
# memory) passes by itself.
_DISK_FULL_STATE = "53100"
_DISK_FULL_WORDS = ("database or disk is full", "no space left on device", "disk full")


# Two workers storing the next version of one unit's report at once on PostgreSQL: the later
# insert hits the version's (or the one-current-row) unique index, named in the error.
# Another run of the command reads the version just stored and stores the one after it.
# (SQLite's writers never race: BEGIN IMMEDIATE makes the read and the write one step.)
_VERSION_INDEXES = ("uq_submissions_version", "uq_submissions_current")
VERSION_ATTEMPTS = 3


def version_conflict(exc: IntegrityError) -> bool:
    return any(name in str(exc.orig) for name in _VERSION_INDEXES)


def lasting_problem(exc: BaseException) -> str | None:
    """What the admins must fix, in Vietnamese, when waiting will not make `exc` pass (a value
    the database refuses, a full disk); None for what may pass by itself (a lost connection,
    a timeout, "database is locked")."""
    if isinstance(exc, IntegrityError | DataError):
        return "cơ sở dữ liệu từ chối một giá trị"
    original = getattr(exc, "orig", None)
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    words = str(exc).casefold()
    # asyncpg's disk-full error reaches SQLAlchemy as a plain DBAPIError, SQLite's as an
    # OperationalError: known by its state or its words, whatever the class.
    if isinstance(exc, DBAPIError) and (
        state == _DISK_FULL_STATE or any(w in words for w in _DISK_FULL_WORDS)
    ):
        return "ổ đĩa của cơ sở dữ liệu đã đầy"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "ổ đĩa đã đầy"
    return None


def _sender(message: Incoming) -> SenderKey:
    return message.platform, message.user_id


def split_command(text: str) -> tuple[str, str] | None:
    """`/baocao@DeAn06Bot Xã Bình Long\\n…` -> (`baocao`, `Xã Bình Long\\n…`). A report's command
    may start any line (after `Em gửi báo cáo ạ` or a copy's header); the lines before it are
    read with the report (and listed as ignored)."""
    lines = unicodedata.normalize("NFC", text).splitlines()  # CRLF, U+2028 and the like
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        return None
    if not lines[start].lstrip().startswith("/"):
        start = next((i for i, line in enumerate(lines) if REPORT_HEAD.match(line.lstrip())), None)
        if start is None:
            return None
    before = [line for line in lines[:start] if line.strip()]
    head, rest = lines[start].lstrip(), lines[start + 1 :]
    head = REPORT_HEAD.sub("/baocao", head, count=1)
    word, _, tail = head.partition(" ")
    name = word[1:].split("@", 1)[0].casefold()
    body = [tail] if tail else []
    args = "\n".join([*before, *body, *rest]) if rest or before else tail
    return name, args


@dataclass
class Engine:
    catalogue: Catalogue
    db: Database
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # The platforms' posting side, for commands that post to other chats (/nhacnho).
    notifiers: list[Notifier] = field(default_factory=list)
    # Sends what commands enqueue (the running bot's; None: drained in the command's task).
    outbox: OutboxRunner | None = None
    # Where /bieudo and /xuat write their files (the simulator uses its out directory);
    # None: a private directory of this process's own, made on first use; each file in it is
    # deleted once sent (`files.release`), the directory by close().
    files_dir: Path | None = None
    _own_files: bool = field(default=False, init=False, repr=False)
    # Lasting storage problems the admins were told about (`_alert_admins`).
    _alerted: set[str] = field(default_factory=set, init=False, repr=False)
    # Per-sender flood limits (handlers.flood): in this process's memory, and on PostgreSQL
    # in the database for every worker (`shared_flood`, memory its fallback).
    flood: FloodGuard = field(default_factory=FloodGuard, init=False, repr=False)
    shared_flood: SharedFloodGuard | None = field(default=None, init=False, repr=False)

    def files_directory(self) -> Path:
        if self.files_dir is None:
            self.files_dir = files.private_files_dir()
            self._own_files = True
        return self.files_dir

    def close(self) -> None:
        """Remove the private files directory, if this engine made one (with any file a
        failure left behind)."""
        if self._own_files and self.files_dir is not None:
            files.remove_private_dir(self.files_dir)
            self.files_dir, self._own_files = None, False

    # Configured chats a platform moved to a new id (handlers.chat_ids).
    chat_ids: ChatIds = field(init=False)

    def __post_init__(self) -> None:
        self.chat_ids = ChatIds(self.catalogue, self.db)
        if self.db.engine.dialect.name == "postgresql":
            self.shared_flood = SharedFloodGuard(self.db, self.flood)

    async def handle(self, message: Incoming) -> list[Reply]:
        held = bounded(message)
        if held is None:
            return []
        message = held
        chat_key = await self._chat_key(message)
        command = split_command(message.text)
        if message.attachment is not None and command is None:
            if message.chat_type != "private":
                return []  # files shared in a group are the members' business
            # A file in a private chat is an import (handlers/imports.py), for admins only.
            command = ("nhap", message.text)
        if message.chat_type == "group" and chat_key is None:
            # A stranger's group learns nothing but that it is not configured.
            return await self.fixed(message, msg.UNKNOWN_GROUP) if command else []
        if command is None:
            if not self._looks_like_report(message):
                # In a private chat the bot always answers; in a group it keeps quiet.
                answer = message.chat_type == "private" and message.edited_at is None
                return await self.fixed(message, msg.UNKNOWN_COMMAND) if answer else []
            name, args = "baocao", message.text
        else:
            name, args = command
        entry = commands.lookup(name)
        if message.edited_at is not None and (entry is None or entry.name != "baocao"):
            return []  # only an edited report means something: a correction
        if entry is None:
            return await self.fixed(message, msg.UNKNOWN_COMMAND) if command else []
        pace = await self._pace(message)
        if pace is Pace.SILENT:
            return []  # decided before any work: nothing looked up, nothing stored
        try:
            actor = await resolve_actor(self.catalogue, self.db, message)
            held_back = await self._held_back(message, pace, actor, entry.name)
            if held_back is not None:
                return held_back
            req = Request(
                message,
                actor,
                args,
                self.catalogue.scoped(chat_key or "") if entry.scoped else self.catalogue,
                self.db,
                chat_key or "",
                self.clock,
                self.notifiers,
                self.outbox,
                files=self.files_directory,
            )
            try:
                replies = await self._answer(entry, req, explicit=command is not None)
                if not await self._recorded(req):
                    return await self._again(entry, req, command is not None, replies)
                return replies
            except AlreadyHandled:
                return await self._again(entry, req, command is not None)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            problem = lasting_problem(exc)
            if problem is None:
                log.exception("storage failed while handling /%s", name)
                return [reply(msg.BUSY_NOT_SAVED if entry.writes else msg.BUSY)]
            log.exception("storage refused /%s for good (%s): admins told", name, problem)
            await self._alert_admins(name, problem)
            return [reply(msg.STORAGE_FAILED_NOT_SAVED if entry.writes else msg.STORAGE_FAILED)]
        except Exception:
            log.exception("unexpected failure while handling /%s", name)
            return [reply(msg.INTERNAL_ERROR)]

    async def answer_later(
        self, platform: str, to: Recipient, replies: Sequence[Reply], key: str = ""
    ) -> None:
        """Answers the platform still refused after the adapter's own retries (its servers
        failing, the connection lost), handed to the outbox: sent by its next look for due
        posts (every few seconds on SQLite, every minute on PostgreSQL: not at once, as the
        adapter has just spent its retries), then tried with its backoff for a day, and
        the admins told if they never went. `to` is the chat the answers were for; `key`
        names the answered message (handed over twice, enqueued once; none: answers to no
        message of the member's, a key of their own). Not handed over without a notifier
        for the platform or when the database fails: the adapter has logged them with their
        text."""
        if platform not in {n.platform for n in self.notifiers} or not replies:
            return
        now = self.clock()
        period = self.catalogue.calendar.current(now)
        try:
            rows = new_posts(
                f"answer:{platform}:{key or uuid.uuid4().hex}",
                period.key,
                [Outgoing(to, r, part=n) for n, r in enumerate(replies)],
                [platform],
                now + ANSWER_RETRIED,
                {"kind": "answer", "label": period.label, "at": now.isoformat()},
            )
            async with self.db.unit_of_work() as uow:
                await enqueue(uow, rows, now)
                await uow.commit()
        except (SQLAlchemyError, OSError, TimeoutError):
            log.exception("%s: answers to %s not handed to the outbox", platform, to.key)
            return
        log.warning("%s: %d answer(s) to %s left to the outbox", platform, len(rows), to.key)

    async def answered(self, platform: str, update_key: str) -> None:
        """An adapter handled an update completely (its replies sent or finally refused),
        outside the inbox (polling; a webhook without one): a later delivery of it, Telegram
        sending again an update whose confirmation a crash lost, then sends nothing. Never
        raises: a failure only means that delivery would be answered again."""
        if not update_key:
            return
        try:
            async with self.db.unit_of_work() as uow:
                await uow.updates.keep(platform, update_key, [])  # nothing to send again
                await uow.commit()
        except (SQLAlchemyError, OSError, TimeoutError):
            log.warning("%s update %s: could not record it answered", platform, update_key)

    async def _answer(self, entry: commands.Command, req: Request, explicit: bool) -> list[Reply]:
        """The command's replies, or why it is not run (to an `explicit` command only)."""
        message, actor = req.message, req.actor
        if message.chat_type not in entry.chats:
            return [reply(msg.wrong_chat(entry.name, message.chat_type))] if explicit else []
        if not entry.allows(actor):
            # A report without the command from someone who may not report is chatter.
            return [reply(entry.refusal(actor))] if explicit else []
        try:
            return await self._run(entry, req)
        except Refusal as refusal:
            # Raised inside the command's transaction, it left nothing stored.
            return [reply(refusal.text)]

    async def _again(
        self,
        entry: commands.Command,
        req: Request,
        explicit: bool,
        replies: list[Reply] | None = None,
    ) -> list[Reply]:
        """An update whose key was recorded before is handled again: a platform's repeated
        delivery, or the inbox's next look after the worker handling it died, possibly
        before its answer left. Once it is known answered (`answered`), nothing. Else a
        command that stored something kept its answer in its transaction
        (`Request.commit_answer`): that answer is sent again, word for word, and nothing is
        stored twice. One that stored nothing (a read, a refusal) is answered again:
        `replies` when this handling has them, else the command is run again with its key
        taken as recorded (`/nhacnho` too: it finds the units nudged just now). A duplicate
        answer at worst (a worker that died between its send and the record of it), never
        none."""
        platform, key = req.message.platform, req.message.update_key
        async with self.db.unit_of_work() as uow:  # a failure is answered as any (`handle`)
            kept = await uow.updates.kept(platform, key)
        if kept is None:
            log.info("%s update %s handled before stored nothing: answered again", platform, key)
            if replies is not None:
                return replies
            return await self._answer(
                entry, replace(req, delivery=Delivery(recorded=True)), explicit
            )
        if not kept:
            log.info("%s update %s was answered before; ignored", platform, key)
            return []
        log.warning(
            "%s update %s was handled before and is handled again: its %d kept replies "
            "are sent again",
            platform,
            key,
            len(kept),
        )
        return [decode(payload, self.files_directory(), flat=True) for payload in kept]

    async def _run(self, entry: commands.Command, req: Request) -> list[Reply]:
        """Run the command; when its report lost a race for the next version of the same
        unit and week (another worker stored one between this one's read and its write), run
        it again on what is stored now: the rolled-back transaction left nothing behind."""
        for attempt in range(1, VERSION_ATTEMPTS + 1):
            try:
                return await entry.run(req)
            except IntegrityError as exc:
                if attempt == VERSION_ATTEMPTS or not version_conflict(exc):
                    raise
                log.info("/%s: another version was stored at the same moment; again", entry.name)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    async def fixed(self, message: Incoming, answer: str) -> list[Reply]:
        """A fixed answer that runs no command (also for an adapter: Zalo's "text only"),
        unless the flood limits hold it back. Who
        sent it is looked up for the limits; when the database cannot say, the sender is
        taken as known (only the pace applies): the answer itself needs no database."""
        pace = await self._pace(message)
        if pace is Pace.SILENT:
            return []
        try:
            actor: Actor | None = await resolve_actor(self.catalogue, self.db, message)
        except (SQLAlchemyError, OSError, TimeoutError):
            log.warning("could not tell whether %s %s is a stranger", *_sender(message))
            actor = None
        held_back = await self._held_back(message, pace, actor, "")
        return [reply(answer)] if held_back is None else held_back

    async def _pace(self, message: Incoming) -> Pace:
        """Count a message that wants an answer against its sender's pace (handlers.flood),
        before any other work. Admins of the config are never held back."""
        person = configured_person(self.catalogue, message)
        if person is not None and person.role is Role.ADMIN:
            return Pace.ANSWER
        sender, now, limits = _sender(message), self.clock(), self.catalogue.limits
        if self.shared_flood is not None:
            return await self.shared_flood.pace(sender, now, limits)
        return self.flood.pace(sender, now, limits)

    async def _stranger_answered(self, sender: SenderKey, way_in: int) -> bool:
        if self.shared_flood is not None:
            return await self.shared_flood.stranger_answered(sender, self.clock(), way_in)
        return self.flood.stranger_answered(sender, self.clock(), way_in)

    async def _held_back(
        self, message: Incoming, pace: Pace, actor: Actor | None, command: str
    ) -> list[Reply] | None:
        """For a message its pace did not silence: None when it may be answered; else what
        to answer instead: one "slow down", or nothing. A stranger (`actor.role` None) has
        a limit of their own and is never told to slow down; `actor` None (the database
        could not say who it is) counts as no stranger."""
        sender, limits = _sender(message), self.catalogue.limits
        if actor is not None and actor.role is None:
            way_in = self.catalogue.registration.per_sender_per_day + 2 if command in WAY_IN else 0
            if pace is Pace.ANSWER and await self._stranger_answered(sender, way_in):
                return None
            log.debug("%s stranger %s not answered (flood limits)", *sender)
            return []
        if pace is Pace.ANSWER:
            return None
        minutes = int(limits.pause.total_seconds() // 60)
        log.info(
            "%s user %s sent more than %d messages in a minute: told to slow down, "
            "not answered for %d minutes",
            *sender,
            limits.per_minute,
            minutes,
        )
        return [reply(msg.slow_down(minutes))]

    async def _alert_admins(self, command: str, problem: str) -> None:
        """Tell every admin in private, once per kind of problem in this process: the same
        failure hits every message until someone acts, and one alert is enough to act on.
        Posted directly, never recorded: the database is what failed."""
        if problem in self._alerted:
            return
        self._alerted.add(problem)
        message = reply(msg.storage_alert(command, problem))
        for person in self.catalogue.people:
            if person.role is not Role.ADMIN:
                continue
            to = Recipient(person.key, person.name, tuple(sorted(person.ids.items())), group=False)
            for notifier in self.notifiers:
                try:
                    await notifier.post(to, message)
                except Exception:
                    log.exception("%s: could not alert admin %s", notifier.platform, person.key)

    async def actor(self, message: Incoming) -> Actor | None:
        """Who sent a message, or None in a chat the bot does not serve."""
        held = bounded(message)
        if held is None or (message.chat_type == "group" and await self._chat_key(held) is None):
            return None
        return await resolve_actor(self.catalogue, self.db, held)

    async def _recorded(self, req: Request) -> bool:
        """Record the update key of a message whose command stored nothing (it read only,
        was refused, or needed no database), in one short transaction before answering;
        False when the update had been handled before."""
        key = req.message.update_key
        if not key or req.delivery.recorded:
            return True
        async with self.db.unit_of_work() as uow:
            first = await uow.updates.first_time(req.message.platform, key, self.clock())
            await uow.commit()
        return first

    async def _chat_key(self, message: Incoming) -> str | None:
        chat = self.catalogue.chat_for(message.platform, message.chat_id)
        if chat is None and message.platform in LOCAL_PLATFORMS:
            chat = self.catalogue.chat_by_key(message.chat_id)
        if chat is None and message.chat_type == "group":
            # A configured group the platform moved (a Telegram supergroup upgrade).
            return await self.chat_ids.key_for(message.platform, message.chat_id)
        return chat.key if chat else None

    def _looks_like_report(self, message: Incoming) -> bool:
        """A report without the command: in a private chat, or replying to the bot in a group."""
        if message.chat_type == "group" and not message.reply_to_bot:
            return False
        recognised = 0
        for line in message.text.splitlines():
            pair = split_line(line)
            if pair and self.catalogue.field_for_label(pair[0]):
                return True
            read = read_line(line, self.catalogue)
            recognised += read is not None and read[2] is not None
        # Lines without a separator (`Đã cấp CCCD 13112`) make a report from two on: one alone
        # may be a sentence that happens to hold a label and a number.
        return recognised >= 2
