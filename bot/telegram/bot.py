"""The Telegram adapter: python-telegram-bot v22 in front of the platform-free engine.

A `bot.adapter.ChatAdapter`. Updates arrive by long polling or through the shared aiohttp web
server (webhook); both end in the same handlers, and an update is confirmed to Telegram only
after it was handled. Text goes to `Engine.handle`; `/baocao` without values opens the
step-by-step form (`bot/telegram/form.py`, driving `handlers.drafts`, whose drafts are in the
database). Every outgoing call
passes through our sliding-window rate limiter in PTB's rate-limiter hook
(`bot/telegram/limiter.py`, which retries 429 after `retry_after`) and our own retry on 5xx,
timeouts and dropped connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.adapter import DeliveryFailed
from bot.config_file import StartupError
from bot.logs import hide_secret
from bot.telegram import texts
from bot.telegram.form import FormPorts, ReportForm
from bot.telegram.html import PLATFORM, to_html
from bot.telegram.limiter import TelegramRateLimiter
from core.catalogue import Catalogue
from core.chat import (
    Attachment,
    Document,
    Incoming,
    Photo,
    Recipient,
    Reply,
    SendWindows,
    id_on,
    reply,
)
from handlers.commands import BUTTON_COMMANDS, menu
from handlers.drafts import Drafts
from handlers.engine import Engine, split_command
from handlers.files import release

if TYPE_CHECKING:
    from aiohttp import web

    from bot.adapter import ChatAdapter
    from handlers.inbox import InboxRunner

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_root: str = "https://api.telegram.org"  # the Bot API server's root
    webhook_url: str = ""  # public HTTPS URL of /telegram/webhook; empty: long polling
    webhook_secret: str = ""
    form_timeout_s: float = 600
    # Polling: delete another process's webhook instead of refusing to start.
    take_over_webhook: bool = False
    poll_timeout_s: int = 30
    # Telegram allows about 30 messages a second in all, 20 a minute in one group; counted
    # in sliding windows (bot/telegram/limiter.py), one below the limit for clock skew.
    overall_per_second: int = 29
    group_per_minute: int = 20
    group_window_s: float = 60.0  # the group window's length (Telegram's minute; tests shorten it)
    send_attempts: int = 5  # tries for 5xx, timeouts and resets (429 is the rate limiter's)
    backoff_s: float = 1.0
    read_timeout_s: float = 5.0  # PTB's default: seconds to wait for the answer to a call


# How long a replayed update id counts as the same update (Telegram keeps an undelivered
# update for 24 hours; storage.repositories.UPDATE_KEY_LIFETIME is the stored twin).
REPLAY_WINDOW_S = 2 * 24 * 3600

# Edits too: an officer who fixes a figure by editing their /baocao means it as a correction.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


class TelegramBot:
    """One bot account: handlers, the form, sending; a `bot.adapter.ChatAdapter`."""

    platform = PLATFORM
    # `post_many` sends one by one: the outbox sends (and records) each post on its own, so a
    # crash in the middle of a digest repeats at most the one post in flight.
    compacts = False

    def __init__(
        self,
        engine: Engine,
        settings: TelegramSettings,
        on_fatal: Callable[[str], None] | None = None,
        windows: SendWindows | None = None,
    ) -> None:
        """`on_fatal(reason)` is called when the bot stops receiving for good while the process
        runs (another process polls with the same token). `windows`: send windows shared with
        the deployment's other workers (PostgreSQL), else this process keeps its own."""
        hide_secret(settings.token)
        hide_secret(settings.webhook_secret)
        self.engine = engine
        self.catalogue: Catalogue = engine.catalogue
        self.settings = settings
        root = settings.api_root.rstrip("/")
        # Opt in to PTB's coming `timedelta` durations (RetryAfter.retry_after), PTB's
        # documented switch; the int form is deprecated and warns from inside PTB. PTB reads
        # the variable whenever it hands out such a value, so before the first call is enough.
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        builder = (
            Application.builder()
            .token(settings.token)
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .rate_limiter(
                TelegramRateLimiter(
                    settings.overall_per_second,
                    settings.group_per_minute,
                    shared=windows,
                    group_window=settings.group_window_s,
                    # The bot's id (the token's part before ':'), never the secret part.
                    scope=f"telegram:{settings.token.split(':', 1)[0]}",
                )
            )
            .read_timeout(settings.read_timeout_s)
            .get_updates_read_timeout(settings.poll_timeout_s + 10)
            # We poll ourselves (see `_poll_forever`): PTB's Updater confirms updates as soon
            # as it has fetched them, so a crash would lose the ones not yet handled.
            .updater(None)
        )
        self.application = builder.build()
        # Update ids handled by this process, with when: a replay within REPLAY_WINDOW_S is
        # dropped; an id seen longer ago is a new update (Telegram may start its ids again
        # after a quiet week), as the engine's stored record treats it.
        self._seen: OrderedDict[int, float] = OrderedDict()
        self._chat_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._stopping = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._sweeping = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None
        self._on_fatal = on_fatal
        # Where a webhook's updates are stored before Telegram is answered (the runtime sets
        # it); None: they are handled before the answer.
        self.inbox: InboxRunner | None = None
        self.username = ""
        self.bot_id = 0
        self._add_handlers()

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            # Half started (the application running, no webhook): release it here, as the
            # runtime stops only the adapters that started.
            with contextlib.suppress(Exception):
                await self.stop()
            raise

    async def _start(self) -> None:
        try:
            await self._connect()
        except InvalidToken as exc:
            raise StartupError(
                "Telegram từ chối TELEGRAM_BOT_TOKEN; kiểm tra lại với @BotFather"
            ) from exc
        except TelegramError as exc:
            raise StartupError(f"không kết nối được Telegram Bot API: {exc}") from exc

    async def _connect(self) -> None:
        app = self.application
        await app.initialize()
        me = app.bot.bot
        self.username, self.bot_id = (me.username or "").casefold(), me.id
        await self.call(lambda: self._set_menu(), what="setMyCommands")
        await app.start()
        # Every worker sweeps the stored drafts for expired ones (bot/telegram/form.py).
        self._sweeping.clear()
        self._sweeper = asyncio.create_task(
            self.form.sweep_forever(self._sweeping), name="telegram-form-sweep"
        )
        if self.settings.webhook_url:
            try:
                await self.call_or_raise(
                    lambda: app.bot.set_webhook(
                        self.settings.webhook_url,
                        secret_token=self.settings.webhook_secret or None,
                        allowed_updates=ALLOWED_UPDATES,
                    ),
                    what="setWebhook",
                )
            except BadRequest as exc:
                # A bad URL or port, or secret characters outside A-Z a-z 0-9 _ -: running on
                # would receive nothing.
                raise StartupError(
                    f"Telegram từ chối WEBHOOK_URL {self.settings.webhook_url} "
                    f"({exc.message}); kiểm tra địa chỉ HTTPS, cổng (443, 80, 88 hoặc 8443) "
                    "và WEBHOOK_SECRET (chỉ A-Z, a-z, 0-9, _ và -)"
                ) from exc
            log.info("telegram: webhook mode as @%s", self.username)
        else:
            # getUpdates is refused while a webhook is set, and deleting it would take the
            # updates away from the processes that receive by webhook: only when told to.
            info = await self.call_or_raise(app.bot.get_webhook_info, what="getWebhookInfo")
            if info.url:
                if not self.settings.take_over_webhook:
                    raise StartupError(texts.webhook_in_use(info.url))
                log.warning("telegram: taking over from the webhook %s", info.url)
                # Pending updates are kept.
                await self.call_or_raise(
                    lambda: app.bot.delete_webhook(drop_pending_updates=False),
                    what="deleteWebhook",
                )
            self._stopping.clear()
            self._poller = asyncio.create_task(self._poll_forever(), name="telegram-poll")
            log.info("telegram: polling as @%s", self.username)

    async def stop(self) -> None:
        """Stop polling (an update batch in hand is finished and confirmed first)."""
        self._stopping.set()
        if self._poller is not None:
            await self._poller
            self._poller = None
        self._sweeping.set()
        if self._sweeper is not None:
            await self._sweeper
            self._sweeper = None
        app = self.application
        if app.running:
            await app.stop()
        await app.shutdown()

    # --- receiving ----------------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        """Long polling that confirms an update (the next call's `offset`) only after it was
        handled. Killed in between, the bot gets the update again at the next start and the
        engine's update record makes sure it is handled once: at least once from Telegram,
        exactly once in the database."""
        bot = self.application.bot
        offset: int | None = None
        delay = self.settings.backoff_s
        answered = False  # a getUpdates of this process has been answered
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                fetch = asyncio.ensure_future(
                    bot.get_updates(
                        offset=offset,
                        timeout=self.settings.poll_timeout_s,
                        allowed_updates=ALLOWED_UPDATES,
                    )
                )
                await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():
                    fetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TelegramError):
                        await fetch
                    break
                try:
                    updates = fetch.result()
                except TelegramError as exc:
                    if isinstance(exc, Conflict) and not answered:
                        # Another process polls with this token: Telegram ends the older
                        # waiting getUpdates with 409 whenever a newer one arrives, so two
                        # pollers would take turns for ever, each getting some of the
                        # updates. The newcomer, none of whose polls was answered yet, gives
                        # way; the established one takes the 409 as a passing failure.
                        log.error("telegram: getUpdates refused (%s)", exc)
                        if self._on_fatal is not None:
                            self._on_fatal(texts.second_poller())
                        break
                    log.warning("telegram: getUpdates failed (%s); again in %.1f s", exc, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(stopping), delay)
                    delay = min(delay * 2, 30)
                    continue
                delay = self.settings.backoff_s
                answered = True
                if updates:
                    await asyncio.gather(*(self.process(u) for u in updates))
                    offset = updates[-1].update_id + 1
            if offset is not None:
                # Confirm the last batch, so the next start does not fetch it again. An update
                # this call returns is not confirmed by it and comes again next time.
                with contextlib.suppress(TelegramError):
                    await bot.get_updates(offset=offset, timeout=0, limit=1)
        finally:
            stopping.cancel()

    async def process(self, update: Update, *, record_answered: bool = True) -> None:
        """Handle one update completely (replies sent), then record it answered (the inbox
        records its own rows handled instead). Updates of one chat are handled in order;
        different chats at once."""
        chat = update.effective_chat
        async with self._chat_locks[chat.id if chat else 0]:
            try:
                await self.application.process_update(update)
            except Exception:
                log.exception("telegram: update %s failed", update.update_id)
            if record_answered:
                await self.engine.answered(PLATFORM, str(update.update_id))

    async def _set_menu(self) -> None:
        bot = self.application.bot
        # The registry (handlers.commands) declares each command's menu entries.
        for scope, entries in (
            (BotCommandScopeAllPrivateChats(), menu("private")),
            (BotCommandScopeAllGroupChats(), menu("group")),
        ):
            await bot.set_my_commands([BotCommand(c, d) for c, d in entries], scope=scope)

    def web_routes(self) -> list[web.RouteDef]:
        """The webhook route in webhook mode; none when polling."""
        if not self.settings.webhook_url:
            return []
        from bot.telegram.webhook import webhook_routes

        return webhook_routes(
            self.settings.webhook_secret,
            lambda data: Update.de_json(data, self.application.bot),
            self.accept,
        )

    async def accept(self, update: Update, body: dict[str, Any]) -> None:
        """A webhook's update: stored in the inbox, when there is one (any worker handles it,
        `handle_stored`), else handled here and now. Raises when it could not be stored."""
        if self.inbox is None:
            await self.process(update)
            return
        chat = update.effective_chat
        await self.inbox.receive(PLATFORM, str(chat.id if chat else 0), str(update.update_id), body)

    async def handle_stored(self, body: dict[str, Any]) -> None:
        """An update the inbox stored, handled completely (replies sent)."""
        await self.process(Update.de_json(body, self.application.bot), record_answered=False)

    # --- handlers -----------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        app.add_handler(TypeHandler(Update, self._drop_replayed), group=-1)
        text = filters.TEXT & ~filters.UpdateType.EDITED
        # The form comes first, so a member's answers go to their form and nowhere else.
        ports = FormPorts(
            incoming=self.incoming,
            for_other_bot=self.for_other_bot,
            handle=self.engine.handle,
            deliver=self.deliver,
            call=self.call,
            clock=self.engine.clock,
            bot=app.bot,
        )
        timeout = self.settings.form_timeout_s
        self.form = ReportForm(Drafts(self.engine, timeout), ports, timeout)
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        # Group 0: the form takes what is its (and stops there); the rest goes to group 1.
        app.add_handlers(self.form.handlers(), group=0)
        # A file in a private chat: an admin's import (handlers/imports.py decides who may).
        document = filters.Document.ALL & filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED
        app.add_handler(MessageHandler(document, self._on_document), group=1)
        edited = filters.TEXT & filters.UpdateType.EDITED_MESSAGE
        app.add_handler(MessageHandler(text | edited, self._on_text), group=1)
        app.add_handler(CallbackQueryHandler(self._on_button), group=1)
        app.add_error_handler(self._on_error)

    async def _drop_replayed(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """A webhook retry or polling replay seen in this process is dropped at once; across
        restarts the engine's update record (same transaction as the report) catches it."""
        now = time.monotonic()
        seen = self._seen.pop(update.update_id, None)
        self._seen[update.update_id] = now
        if seen is not None and now - seen < REPLAY_WINDOW_S:
            log.info("telegram: update %s delivered again; ignored", update.update_id)
            raise ApplicationHandlerStop
        if len(self._seen) > 10_000:
            self._seen.popitem(last=False)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: handler failed: %r", context.error, exc_info=context.error)

    def incoming(self, update: Update, message: Message, text: str) -> Incoming | None:
        user = update.effective_user
        if user is None or user.is_bot:
            return None
        replied = message.reply_to_message
        return Incoming(
            platform=PLATFORM,
            chat_id=str(message.chat.id),
            chat_type="private" if message.chat.type == "private" else "group",
            user_id=str(user.id),
            user_name=user.full_name,
            user_handle=user.username or "",
            text=text,
            sent_at=message.date,
            message_id=str(message.message_id),
            reply_to_bot=bool(
                replied and replied.from_user and replied.from_user.id == self.bot_id
            ),
            update_key=str(update.update_id),
            forwarded=message.forward_origin is not None,
            edited_at=message.edit_date if update.edited_message is message else None,
        )

    def for_other_bot(self, text: str) -> bool:
        """`/baocao@OtherBot` in a group is not ours."""
        match = re.match(r"^\s*/\w+@(\w+)", text)
        return bool(match and match.group(1).casefold() != self.username)

    async def _on_text(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None or self.for_other_bot(message.text):
            return
        if _anonymous_admin(message):
            # Telegram hides who the admin is (`from` is GroupAnonymousBot, `sender_chat` the
            # group): a command from nobody in particular cannot be authorised, so say how to
            # post as oneself instead of keeping silent.
            if message.text.lstrip().startswith("/"):
                await self.deliver(message.chat.id, [reply(texts.ANONYMOUS_ADMIN)], message)
            return
        incoming = self.incoming(update, message, message.text)
        if incoming is None:
            return
        log.debug(
            "telegram: message %s from user_id=%s in chat_id=%s",
            message.message_id,
            incoming.user_id,
            incoming.chat_id,
        )
        if incoming.chat_type == "group" and not self.engine.chat_ids.known_key(
            PLATFORM, incoming.chat_id
        ):
            # How an administrator learns the id to put in the config (docs/DEPLOY.md).
            log.info(
                "telegram: group %r is not in the config: chat_id=%s",
                message.chat.title,
                incoming.chat_id,
            )
        replies = await self.engine.handle(incoming)
        await self.deliver(message.chat.id, replies, reply_to=message)

    async def _on_document(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """A file sent in a private chat, its caption as the text. The bytes are fetched
        (getFile, then the file's URL: https://core.telegram.org/bots/api#getfile) only when
        the engine asks for them, after the sender and the announced size were accepted."""
        message = update.effective_message
        if message is None or message.document is None:
            return
        doc = message.document
        incoming = self.incoming(update, message, message.caption or "")
        if incoming is None:
            return
        bot = self.application.bot

        async def fetch() -> bytes:
            try:
                file = await bot.get_file(doc.file_id)
                return bytes(await file.download_as_bytearray())
            except TelegramError as exc:
                raise OSError(f"getFile failed: {exc}") from exc

        attachment = Attachment(doc.file_name or "", doc.file_size or 0, fetch=fetch)
        replies = await self.engine.handle(replace(incoming, attachment=attachment))
        await self.deliver(message.chat.id, replies, reply_to=message)

    async def _on_migrate(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """A group upgraded to a supergroup: Telegram says so in the old group
        (`migrate_to_chat_id`) and in the new one (`migrate_from_chat_id`)."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:
            await self._chat_moved(str(message.chat.id), str(message.migrate_to_chat_id))
        elif message.migrate_from_chat_id:
            await self._chat_moved(str(message.migrate_from_chat_id), str(message.chat.id))

    async def _chat_moved(self, old_id: str, new_id: str) -> None:
        await self.engine.chat_ids.moved(PLATFORM, old_id, new_id, self.engine.clock())

    async def _on_button(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return
        command = split_command(query.data or "")
        if command is None or command[0] not in BUTTON_COMMANDS:
            # A form button of someone else's form, or callback data we never sent.
            await self.call(
                lambda: query.answer(texts.BUTTON_NOT_YOURS), what="answerCallbackQuery"
            )
            return
        await self.call(lambda: query.answer(texts.BUTTON_DONE), what="answerCallbackQuery")
        incoming = self.incoming(update, query.message, query.data or "")
        if incoming is None:
            return
        # The presser is checked by the engine like anyone typing the command.
        replies = await self.engine.handle(incoming)
        await self.deliver(query.message.chat.id, replies)

    # --- sending ------------------------------------------------------------------------------

    async def deliver(
        self, chat_id: int | str, replies: Sequence[Reply], reply_to: Message | None = None
    ) -> None:
        """The engine's replies to a message: to its chat (quoting it in a group), or to the
        configured chat a reply names by key. Their charts and exports are deleted after."""
        try:
            later: list[Reply] = []  # refused for now, after the retries: to the outbox
            for r in replies:
                if not r.chat_id:
                    failure = await self._send_reply(chat_id, r, reply_to)
                    if failure is not None and not isinstance(failure, _FINAL_REFUSALS):
                        later.append(r)
                    continue
                chat = self.catalogue.chat_by_key(r.chat_id)
                target = chat.ids.get(PLATFORM) if chat is not None else None
                if target is None:
                    log.warning("telegram: chat %r has no Telegram id; reply not sent", r.chat_id)
                    continue
                await self.send(await self.engine.chat_ids.current(PLATFORM, r.chat_id, target), r)
            if later:
                # Read before the files are released below.
                await self.engine.answer_later(
                    PLATFORM, _answered_chat(chat_id, reply_to), later, _answer_key(reply_to)
                )
        finally:
            release(replies)

    async def send(self, chat_id: int | str, r: Reply, reply_to: Message | None = None) -> bool:
        """Every page and file of `r`; False when a call finally failed (it was logged)."""
        return await self._send_reply(chat_id, r, reply_to) is None

    async def _send_reply(
        self, chat_id: int | str, r: Reply, reply_to: Message | None
    ) -> TelegramError | None:
        """Every page and file of `r`; the first call's error when a call finally failed."""
        try:
            await self._send_all(chat_id, r, reply_to, strict=False)
        except TelegramError as exc:
            return exc
        return None

    async def _send_all(
        self,
        chat_id: int | str,
        r: Reply,
        reply_to: Message | None,
        *,
        strict: bool,
        topic: int | None = None,
    ) -> None:
        """Every page and file of `r`, in forum topic `topic` unless it answers `reply_to`.
        Strict: the first call that finally fails raises its TelegramError and nothing after
        it is sent (a post is then sent again whole). Not strict: each failure is logged and
        the rest still go, and a TelegramError is raised at the end when anything failed."""
        bot = self.application.bot
        markup = None
        if r.buttons:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=action[:64])]
                    for label, action in r.buttons
                ]
            )
        quoted = (
            ReplyParameters(reply_to.message_id, allow_sending_without_reply=True)
            if reply_to is not None and reply_to.chat.type != "private"
            else None
        )
        # In a forum, every page and file of a reply goes to the topic of the message it
        # answers (without it they would land in the General topic).
        if reply_to is not None:
            topic = reply_to.message_thread_id if reply_to.is_topic_message else None
        pages = to_html(r.blocks)
        failure: TelegramError | None = None
        for n, page in enumerate(pages):
            last = n == len(pages) - 1
            failed = await self._attempt(
                strict,
                partial(
                    bot.send_message,
                    chat_id,
                    page,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if last else None,
                    reply_parameters=quoted if n == 0 else None,
                    message_thread_id=topic,
                ),
                what="sendMessage",
                chat=chat_id,
                payload=page,
            )
            failure = failure or failed
        for block in r.blocks:
            method: Callable[..., Awaitable[Message]]
            if isinstance(block, Photo):
                method, kind = bot.send_photo, "photo"
            elif isinstance(block, Document):
                method, kind = bot.send_document, "document"
            else:
                continue
            failed = await self._attempt(
                strict,
                _file_sender(method, chat_id, block.path, block.caption, topic),
                what=f"send_{kind}",
                chat=chat_id,
                payload=str(block.path),
            )
            failure = failure or failed
        if failure is not None:
            raise failure

    async def _attempt(
        self,
        strict: bool,
        call: Callable[[], Awaitable[object]],
        *,
        what: str,
        chat: int | str,
        payload: str,
    ) -> TelegramError | None:
        """One call through `call_or_raise`: its final error, raised when strict.

        A send whose answer did not come in time (a read timeout: the request reached
        Telegram) is neither sent again nor taken as failed: Telegram has most likely posted
        it, and a second copy in a group is seen by everyone. It is logged with its text, so a
        message that really was lost can be found and sent by hand (docs/RELIABILITY.md)."""
        try:
            await self.call_or_raise(call, what=what, chat=chat, payload=payload, resend=False)
        except TelegramError as exc:
            if not _answer_lost(exc):
                if strict:
                    raise
                return exc
            log.warning(
                "telegram: %s to %s got no answer in time; taken as sent, not sent again; "
                "payload=%r",
                what,
                chat,
                payload,
            )
        return None

    async def post(self, to: Recipient, message: Reply) -> bool:
        """A post to a configured chat or a person's private chat (reminders, digests,
        nudges): False without a Telegram id; raises when Telegram did not take it."""
        return await self.post_many(to, (message,))

    async def post_many(self, to: Recipient, messages: Sequence[Reply]) -> bool:
        """Several posts to one recipient, one after another (Telegram's 4,096 characters
        leave nothing worth compacting), in the chat's configured forum topic if it has one."""
        configured = id_on(to.ids, PLATFORM)
        if configured is None:
            return False
        chat_id = configured
        if to.group:
            chat_id = await self.engine.chat_ids.current(PLATFORM, to.key, configured)
        thread = id_on(to.topics, PLATFORM)
        topic = int(thread) if thread is not None else None
        for message in messages:
            try:
                try:
                    await self._send_all(chat_id, message, None, strict=True, topic=topic)
                except ChatMigrated as moved:
                    # The group became a supergroup: remember its new id, send there again.
                    old_id, chat_id = chat_id, str(moved.new_chat_id)
                    await self._chat_moved(old_id, chat_id)
                    await self._send_all(chat_id, message, None, strict=True, topic=topic)
            except TelegramError as exc:
                raise DeliveryFailed(
                    f"telegram: a post to {to.key} was not delivered: {exc.message}",
                    unreachable=unreachable(exc),
                    reason=exc.message,
                ) from exc
        return True

    async def call(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        what: str,
        chat: int | str = "",
        payload: str = "",
    ) -> T | None:
        """`call_or_raise`, None when the call finally failed (it was logged)."""
        try:
            return await self.call_or_raise(call, what=what, chat=chat, payload=payload)
        except TelegramError:
            return None

    async def call_or_raise(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        what: str,
        chat: int | str = "",
        payload: str = "",
        resend: bool = True,
    ) -> T:
        """One Bot API call with retries on 5xx, timeouts and resets (429 waits happen in the
        rate limiter). A call that finally fails is logged with what is needed to resend it,
        and its TelegramError raised. With `resend` False a read timeout (the request reached
        Telegram, which may have carried it out) is raised at once instead of retried."""
        delay = self.settings.backoff_s
        for attempt in range(1, self.settings.send_attempts + 1):
            try:
                return await call()
            except (BadRequest, Forbidden, ChatMigrated) as exc:
                log.error("telegram: %s to %s refused: %s; payload=%r", what, chat, exc, payload)
                raise
            except (NetworkError, RetryAfter) as exc:
                if not resend and _answer_lost(exc):
                    raise
                if isinstance(exc, RetryAfter):
                    retry_after = exc.retry_after
                    delay = max(
                        delay,
                        retry_after.total_seconds()
                        if hasattr(retry_after, "total_seconds")
                        else float(retry_after),
                    )
                if attempt == self.settings.send_attempts:
                    log.error(
                        "telegram: %s to %s failed after %d attempts (%s); payload=%r",
                        what,
                        chat,
                        attempt,
                        exc,
                        payload,
                    )
                    raise
                log.warning("telegram: %s failed (%s); retrying in %.1f s", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
            except TelegramError as exc:
                log.error("telegram: %s to %s failed: %s; payload=%r", what, chat, exc, payload)
                raise
        raise TelegramError(f"{what}: no attempt made")  # send_attempts < 1


# Telegram's account that stands for an anonymous group administrator (Bot API, Message:
# "sender_chat … the supergroup itself for messages from anonymous group administrators").
GROUP_ANONYMOUS_BOT_ID = 1087968824


def _anonymous_admin(message: Message) -> bool:
    sender = message.from_user
    anonymous = sender is not None and sender.id == GROUP_ANONYMOUS_BOT_ID
    return anonymous or (
        message.sender_chat is not None and message.sender_chat.id == message.chat.id
    )


# Refusals that trying again later would not change (a bad request, the bot blocked or out of
# the group, a group that moved): an answer refused so is not handed to the outbox.
_FINAL_REFUSALS = (BadRequest, Forbidden, ChatMigrated)


def _answered_chat(chat_id: int | str, message: Message | None) -> Recipient:
    """The chat an answer was for, as the outbox addresses a post: its Telegram id, the
    member's or group's name (the admins' notice names it), its forum topic."""
    chat = message.chat if message is not None else None
    group = chat.type != "private" if chat is not None else str(chat_id).startswith("-")
    name = str(chat_id)
    if chat is not None:
        name = chat.title or chat.full_name or name
    topic = message.message_thread_id if message is not None and message.is_topic_message else None
    return Recipient(
        f"{PLATFORM}:{chat_id}",
        name,
        ((PLATFORM, str(chat_id)),),
        group=group,
        topics=((PLATFORM, str(topic)),) if topic is not None else (),
    )


def _answer_key(message: Message | None) -> str:
    """What names the answered message: its chat and id; none for a press of the form's Gửi,
    which answers no message of the member's."""
    return "" if message is None else f"{message.chat.id}:{message.message_id}"


def _answer_lost(exc: TelegramError) -> bool:
    """The request reached Telegram and only its answer timed out (PTB raises TimedOut from
    httpx's ReadTimeout); a connect, write or pool timeout means it was never carried out."""
    return isinstance(exc, TimedOut) and isinstance(exc.__cause__, httpx.ReadTimeout)


def _file_sender(
    method: Callable[..., Awaitable[Message]],
    chat_id: int | str,
    path: Path,
    caption: str,
    topic: int | None = None,
) -> Callable[[], Awaitable[Message]]:
    async def once() -> Message:
        # Opened on every attempt: a retry must upload the file from its start.
        with path.open("rb") as handle:
            return await method(
                chat_id, handle, caption=caption[:1024] or None, message_thread_id=topic
            )

    return once


def unreachable(exc: TelegramError) -> bool:
    """The Bot API's refusals that only a person can lift: 403 (kicked from the group,
    blocked, never started in private; https://core.telegram.org/bots/api#making-requests)
    and 400 "chat not found" (an id the bot has never been in, or a person who never wrote
    to it)."""
    return isinstance(exc, Forbidden) or (
        isinstance(exc, BadRequest) and "chat not found" in exc.message.casefold()
    )


if TYPE_CHECKING:

    def _an_adapter(bot: TelegramBot) -> ChatAdapter:
        return bot  # mypy checks that TelegramBot satisfies the protocol
