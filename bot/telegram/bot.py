"""The Telegram adapter: python-telegram-bot v22 in front of the platform-free engine.

Updates arrive by long polling or through the shared aiohttp web server (webhook); both end
in the same handlers. Text goes to `Engine.handle`; `/baocao` without values opens a
step-by-step form (a ConversationHandler per chat *and* user, so other members of a group are
never captured). Every outgoing call passes through PTB's AIORateLimiter (which retries 429
after `retry_after`) and our own retry on 5xx, timeouts and dropped connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.logs import hide_secret
from bot.telegram.render import PLATFORM, to_html
from core import messages as msg
from core.catalogue import Catalogue, Field, Role, Unit
from core.chat import Document, Incoming, Photo, Recipient, Reply, Text, id_on
from core.numbers import NumberError, format_int, parse_count
from handlers.common import Refusal, find_unit, template_text
from handlers.engine import Engine, split_command

log = logging.getLogger(__name__)
T = TypeVar("T")

# Commands a button may carry; anything else in callback data is refused.
BUTTON_COMMANDS = frozenset({"nhacnho", "nudge", "trangthai", "status"})
# Form states.
ASK_UNIT, ASK_FIELD, CONFIRM = range(3)
_FORM_START = re.compile(r"^\s*/(baocao|report)(@\w+)?\s*$", re.IGNORECASE)
_CANCEL = re.compile(r"^\s*/(huy|cancel)(@\w+)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_root: str = "https://api.telegram.org"  # the Bot API server's root
    webhook_url: str = ""  # public HTTPS URL of /telegram/webhook; empty: long polling
    webhook_secret: str = ""
    form_timeout_s: float = 600
    poll_timeout_s: int = 30
    overall_per_second: float = 30  # Telegram's broadcast limit
    group_per_minute: float = 20  # and its limit per group
    send_attempts: int = 5  # tries for 5xx, timeouts and resets (429 is the rate limiter's)
    backoff_s: float = 1.0


@dataclass
class _Form:
    """A report being typed field by field."""

    unit: Unit | None = None
    values: dict[str, int] = field(default_factory=dict)
    index: int = 0
    fields: tuple[Field, ...] = ()  # the ones asked: required, and those the unit reports
    previous: Mapping[str, int] = field(default_factory=dict)  # the unit's latest report


class TelegramBot:
    """One bot account: handlers, the form, sending, and the `Notifier` for scheduled posts."""

    platform = PLATFORM

    def __init__(self, engine: Engine, settings: TelegramSettings) -> None:
        hide_secret(settings.token)
        hide_secret(settings.webhook_secret)
        self.engine = engine
        self.catalogue: Catalogue = engine.catalogue
        self.settings = settings
        root = settings.api_root.rstrip("/")
        builder = (
            Application.builder()
            .token(settings.token)
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .rate_limiter(
                AIORateLimiter(
                    overall_max_rate=settings.overall_per_second,
                    group_max_rate=settings.group_per_minute,
                    max_retries=8,
                )
            )
            .get_updates_read_timeout(settings.poll_timeout_s + 10)
            # We poll ourselves (see `_poll_forever`): PTB's Updater confirms updates as soon
            # as it has fetched them, so a crash would lose the ones not yet handled.
            .updater(None)
        )
        self.application = builder.build()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._chat_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._stopping = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self.username = ""
        self.bot_id = 0
        self._add_handlers()

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        me = app.bot.bot
        self.username, self.bot_id = (me.username or "").casefold(), me.id
        await self._call(lambda: self._set_menu(), what="setMyCommands")
        await app.start()
        if self.settings.webhook_url:
            await self._call(
                lambda: app.bot.set_webhook(
                    self.settings.webhook_url,
                    secret_token=self.settings.webhook_secret or None,
                    allowed_updates=["message", "callback_query"],
                ),
                what="setWebhook",
            )
            log.info("telegram: webhook mode as @%s", self.username)
        else:
            # getUpdates is refused while a webhook is set; pending updates are kept.
            await self._call(
                lambda: app.bot.delete_webhook(drop_pending_updates=False), what="deleteWebhook"
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
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                fetch = asyncio.ensure_future(
                    bot.get_updates(
                        offset=offset,
                        timeout=self.settings.poll_timeout_s,
                        allowed_updates=["message", "callback_query"],
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
                    log.warning("telegram: getUpdates failed (%s); again in %.1f s", exc, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(stopping), delay)
                    delay = min(delay * 2, 30)
                    continue
                delay = self.settings.backoff_s
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

    async def process(self, update: Update) -> None:
        """Handle one update completely (replies sent). Updates of one chat are handled in
        order; different chats at once."""
        chat = update.effective_chat
        async with self._chat_locks[chat.id if chat else 0]:
            try:
                await self.application.process_update(update)
            except Exception:
                log.exception("telegram: update %s failed", update.update_id)

    async def _set_menu(self) -> None:
        bot = self.application.bot
        for scope, menu in (
            (BotCommandScopeAllPrivateChats(), msg.MENU_PRIVATE),
            (BotCommandScopeAllGroupChats(), msg.MENU_GROUP),
        ):
            await bot.set_my_commands([BotCommand(c, d) for c, d in menu], scope=scope)

    # --- webhook ------------------------------------------------------------------------------

    def webhook_routes(self, path: str = "/telegram/webhook") -> list[web.RouteDef]:
        return [web.post(path, self._webhook)]

    async def _webhook(self, request: web.Request) -> web.Response:
        # The secret is checked before the body is read.
        sent = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not sent:
            return web.Response(status=401, text="missing secret")
        if not hmac.compare_digest(sent.encode(), self.settings.webhook_secret.encode()):
            return web.Response(status=403, text="wrong secret")
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        # Handled before answering: if the process dies first, Telegram delivers it again.
        await self.process(update)
        return web.Response(text="ok")

    # --- handlers -----------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        app.add_handler(TypeHandler(Update, self._drop_replayed), group=-1)
        text = filters.TEXT & ~filters.UpdateType.EDITED
        with warnings.catch_warnings():
            # CallbackQueryHandler in a per-chat-and-user form is what we want (the buttons
            # belong to the form's last message); PTB warns about the general case.
            warnings.simplefilter("ignore", PTBUserWarning)
            form = ConversationHandler(
                entry_points=[MessageHandler(text & filters.Regex(_FORM_START), self._form_start)],
                states={
                    ASK_UNIT: [MessageHandler(text & ~filters.COMMAND, self._form_unit)],
                    ASK_FIELD: [MessageHandler(text & ~filters.COMMAND, self._form_field)],
                    CONFIRM: [CallbackQueryHandler(self._form_button, pattern=r"^form:")],
                    ConversationHandler.TIMEOUT: [TypeHandler(Update, self._form_timeout)],
                },
                fallbacks=[MessageHandler(text & filters.Regex(_CANCEL), self._form_cancel)],
                per_chat=True,
                per_user=True,
                conversation_timeout=self.settings.form_timeout_s,
                name="baocao_form",
            )
        # One group: the first handler that wants an update takes it. The form comes first,
        # so a member's answers go to their form and nowhere else.
        app.add_handler(form)
        app.add_handler(MessageHandler(text, self._on_text))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_error_handler(self._on_error)

    async def _drop_replayed(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """A webhook retry or polling replay seen in this process is dropped at once; across
        restarts the engine's update record (same transaction as the report) catches it."""
        if update.update_id in self._seen:
            log.info("telegram: update %s delivered again; ignored", update.update_id)
            raise ApplicationHandlerStop
        self._seen[update.update_id] = None
        if len(self._seen) > 10_000:
            self._seen.popitem(last=False)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: handler failed: %r", context.error, exc_info=context.error)

    def _incoming(self, update: Update, message: Message, text: str) -> Incoming | None:
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
            text=text,
            sent_at=message.date,
            message_id=str(message.message_id),
            reply_to_bot=bool(
                replied and replied.from_user and replied.from_user.id == self.bot_id
            ),
            update_key=str(update.update_id),
        )

    def _for_other_bot(self, text: str) -> bool:
        """`/baocao@OtherBot` in a group is not ours."""
        match = re.match(r"^\s*/\w+@(\w+)", text)
        return bool(match and match.group(1).casefold() != self.username)

    async def _on_text(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None or self._for_other_bot(message.text):
            return
        incoming = self._incoming(update, message, message.text)
        if incoming is None:
            return
        log.debug(
            "telegram: message %s from user_id=%s in chat_id=%s",
            message.message_id,
            incoming.user_id,
            incoming.chat_id,
        )
        if incoming.chat_type == "group" and not self.catalogue.chat_for(
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

    async def _on_button(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return
        command = split_command(query.data or "")
        if command is None or command[0] not in BUTTON_COMMANDS:
            # A form button of someone else's form, or callback data we never sent.
            await self._call(lambda: query.answer(msg.BUTTON_NOT_YOURS), what="answerCallbackQuery")
            return
        await self._call(lambda: query.answer(msg.BUTTON_DONE), what="answerCallbackQuery")
        incoming = self._incoming(update, query.message, query.data or "")
        if incoming is None:
            return
        # The presser is checked by the engine like anyone typing the command.
        replies = await self.engine.handle(incoming)
        await self.deliver(query.message.chat.id, replies)

    # --- the form -----------------------------------------------------------------------------

    async def _form_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, text = _text_of(update)
        if self._for_other_bot(text):
            return ConversationHandler.END
        incoming = self._incoming(update, message, text)
        actor = await self.engine.actor(incoming) if incoming else None
        if incoming is None or actor is None or actor.role not in (Role.OFFICER, Role.ADMIN):
            # Strangers, leaders and unknown groups get the engine's own answer.
            if incoming is not None:
                await self.deliver(message.chat.id, await self.engine.handle(incoming), message)
            return ConversationHandler.END
        form = _set_form(
            context, update, _Form(unit=actor.unit if actor.role is Role.OFFICER else None)
        )
        if form.unit is None:
            await self._ask(message, msg.FORM_ASK_UNIT)
            return ASK_UNIT
        return await self._first_field(message, form, form.unit)

    async def _first_field(self, message: Message, form: _Form, unit: Unit) -> int:
        """Ask the required fields and the optional ones the unit reported last time, each
        with last time's figure beside it: the usual report in as few questions as it takes."""
        period = self.catalogue.calendar.place(message.date).period
        async with self.engine.db.unit_of_work() as uow:
            latest = await uow.submissions.recent(unit.code, period.key, 1)
        form.previous = dict(latest[0].values) if latest else {}
        form.fields = tuple(
            f for f in self.catalogue.fields if f.required or f.code in form.previous
        )
        return await self._next_field(message, form, intro=msg.form_start(unit.name))

    async def _form_unit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, text = _text_of(update)
        form = _get_form(context, update)
        try:
            form.unit = unit = find_unit(self.catalogue, text)
        except Refusal as refusal:
            await self._ask(message, refusal.text)
            return ASK_UNIT
        return await self._first_field(message, form, unit)

    async def _form_field(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, text = _text_of(update)
        form = _get_form(context, update)
        fld = form.fields[form.index]
        answer = text.strip()
        if answer == "." and fld.code in form.values:
            pass
        elif answer == "-" and not fld.required:
            form.values.pop(fld.code, None)
        else:
            try:
                form.values[fld.code] = parse_count(answer)
            except NumberError as exc:
                await self._ask(message, msg.form_bad_value(str(exc)))
                return ASK_FIELD
        form.index += 1
        return await self._next_field(message, form)

    async def _next_field(self, message: Message, form: _Form, intro: str = "") -> int:
        fields = form.fields
        if form.index < len(fields):
            fld = fields[form.index]
            current = form.values.get(fld.code)
            before = form.previous.get(fld.code)
            await self._ask(
                message,
                (intro + "\n\n" if intro else "")
                + msg.form_ask(
                    fld.label,
                    form.index + 1,
                    len(fields),
                    fld.required,
                    format_int(current) if current is not None else None,
                    format_int(before) if before is not None else None,
                ),
            )
            return ASK_FIELD
        summary = template_text(self.catalogue, form.unit, form.values, only_given=True)
        buttons = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(msg.FORM_BUTTON_SEND, callback_data="form:send"),
                    InlineKeyboardButton(msg.FORM_BUTTON_EDIT, callback_data="form:edit"),
                    InlineKeyboardButton(msg.FORM_BUTTON_CANCEL, callback_data="form:cancel"),
                ]
            ]
        )
        for page in to_html((Text.of(msg.form_summary(summary)),)):
            await self._call(
                partial(message.reply_html, page, reply_markup=buttons), what="sendMessage"
            )
        return CONFIRM

    async def _form_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return ConversationHandler.END
        await self._call(lambda: query.answer(), what="answerCallbackQuery")
        form = _get_form(context, update)
        message = query.message
        await self._call(lambda: message.edit_reply_markup(None), what="editMessageReplyMarkup")
        if query.data == "form:cancel":
            await self._say(message, msg.FORM_CANCELLED)
            return ConversationHandler.END
        if query.data == "form:edit":
            form.index = 0
            return await self._next_field(message, form)
        text = template_text(self.catalogue, form.unit, form.values, only_given=True)
        incoming = self._incoming(update, message, text)
        if incoming is not None:
            # Sent as if typed: the engine validates and stores it like any report. Its time
            # is the summary's (the member's last answer), not the button press.
            await self.deliver(message.chat.id, await self.engine.handle(incoming))
        return ConversationHandler.END

    async def _form_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, _ = _text_of(update)
        await self._say(message, msg.FORM_CANCELLED)
        return ConversationHandler.END

    async def _form_timeout(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None:
            await self._say(
                message, msg.form_timeout(max(1, round(self.settings.form_timeout_s / 60)))
            )

    async def _ask(self, message: Message, text: str, question: bool = True) -> None:
        """A question to one member: in a group it is a reply with a selective ForceReply, so
        the member's answer reaches the bot even with privacy mode on."""
        markup = ForceReply(selective=True) if question and message.chat.type != "private" else None
        for page in to_html((Text.of(text),)):
            await self._call(
                partial(message.reply_html, page, reply_markup=markup), what="sendMessage"
            )

    async def _say(self, message: Message, text: str) -> None:
        await self._ask(message, text, question=False)

    # --- sending ------------------------------------------------------------------------------

    async def deliver(
        self, chat_id: int | str, replies: Sequence[Reply], reply_to: Message | None = None
    ) -> None:
        for r in replies:
            target = r.chat_id or chat_id
            await self.send(target, r, reply_to if not r.chat_id else None)

    async def send(self, chat_id: int | str, r: Reply, reply_to: Message | None = None) -> None:
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
        pages = to_html(r.blocks)
        for n, page in enumerate(pages):
            last = n == len(pages) - 1
            await self._call(
                partial(
                    bot.send_message,
                    chat_id,
                    page,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if last else None,
                    reply_parameters=quoted if n == 0 else None,
                ),
                what="sendMessage",
                chat=chat_id,
                payload=page,
            )
        for block in r.blocks:
            if isinstance(block, Photo):
                await self._send_file(bot.send_photo, "photo", chat_id, block.path, block.caption)
            elif isinstance(block, Document):
                await self._send_file(
                    bot.send_document, "document", chat_id, block.path, block.caption
                )

    async def _send_file(
        self,
        method: Callable[..., Awaitable[Message]],
        kind: str,
        chat_id: int | str,
        path: Path,
        caption: str,
    ) -> None:
        async def once() -> Message:
            with path.open("rb") as handle:
                return await method(chat_id, handle, caption=caption[:1024] or None)

        await self._call(once, what=f"send_{kind}", chat=chat_id, payload=str(path))

    async def post(self, to: Recipient, message: Reply) -> bool:
        """`Notifier`: a scheduled post to a configured chat or a person's private chat."""
        chat_id = id_on(to.ids, PLATFORM)
        if chat_id is None:
            return False
        await self.send(chat_id, message)
        return True

    async def _call(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        what: str,
        chat: int | str = "",
        payload: str = "",
    ) -> T | None:
        """One Bot API call with retries on 5xx, timeouts and resets (429 waits happen in the
        rate limiter). A call that finally fails is logged with what is needed to resend it."""
        delay = self.settings.backoff_s
        for attempt in range(1, self.settings.send_attempts + 1):
            try:
                return await call()
            except (BadRequest, Forbidden) as exc:
                log.error("telegram: %s to %s refused: %s; payload=%r", what, chat, exc, payload)
                return None
            except (NetworkError, RetryAfter) as exc:
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
                    return None
                log.warning("telegram: %s failed (%s); retrying in %.1f s", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
            except TelegramError as exc:
                log.error("telegram: %s to %s failed: %s; payload=%r", what, chat, exc, payload)
                return None
        return None


def _text_of(update: Update) -> tuple[Message, str]:
    """The message and its text, for handlers whose filters admit text messages only."""
    message = update.effective_message
    if message is None or message.text is None:
        raise TypeError(f"update {update.update_id} carries no text message")
    return message, message.text


def _forms(context: ContextTypes.DEFAULT_TYPE) -> dict[Any, Any]:
    """The user's forms, one per chat (the ConversationHandler keys on chat and user)."""
    if context.user_data is None:
        raise RuntimeError("a form needs user data")
    return context.user_data


def _get_form(context: ContextTypes.DEFAULT_TYPE, update: Update) -> _Form:
    chat = update.effective_chat
    form = _forms(context).get(("form", chat.id if chat else 0))
    return form if isinstance(form, _Form) else _set_form(context, update, _Form())


def _set_form(context: ContextTypes.DEFAULT_TYPE, update: Update, form: _Form) -> _Form:
    chat = update.effective_chat
    _forms(context)[("form", chat.id if chat else 0)] = form
    return form
