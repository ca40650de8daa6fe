"""The step-by-step `/baocao` form on Telegram: ForceReply questions and inline buttons
driving the platform-free draft service (`handlers.drafts`), whose drafts live in the
database, so any worker behind a balancer takes the next answer.

Each member has at most one draft per chat (key: platform, chat, member), so members of a
group are kept apart; in a group each question is a reply with a selective ForceReply, so the
member's answer reaches the bot with privacy mode on. Every answer reads the stored draft and
writes it back naming the version it read (a concurrent write makes it read again), so answer
N is field N whichever worker gets it. The finished draft goes to the engine as the report
text it stands for, so it is validated and stored like any typed report.

A draft expires `timeout_s` after its last answer. Every worker sweeps expired drafts now and
then (`sweep_forever`, every `sweep_every(timeout_s)` seconds); each expired draft is claimed
by one worker, which tells the member. A member who writes before any sweep claimed it is
told then, and their message is handled as if there were no form.

The handlers are registered in group 0, before the bot's general ones (group 1): an update
the form takes ends there (`ApplicationHandlerStop`); one it does not want goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.telegram import texts
from bot.telegram.html import PLATFORM, to_html
from core.chat import Incoming, Reply, Text
from handlers.drafts import CONFIRM_ACTIONS, Draft, DraftKey, Drafts, Prompt, Stage

log = logging.getLogger(__name__)

_FORM_START = re.compile(r"^\s*/(baocao|report)(@\w+)?\s*$", re.IGNORECASE)
_CANCEL = re.compile(r"^\s*/(huy|cancel)(@\w+)?\s*$", re.IGNORECASE)
# Reads and writes of one answer when other workers keep writing the same draft: each retry
# means another answer was taken meanwhile, so a handful is plenty.
_ATTEMPTS = 5


def sweep_every(timeout_s: float) -> float:
    """Seconds between two sweeps for expired drafts: a fifth of the timeout, at most 30 s
    (a member is told at most that late), at least 50 ms."""
    return max(0.05, min(30.0, timeout_s / 5))


@dataclass(frozen=True)
class FormPorts:
    """What the form needs from the bot: translating an update, handling and delivering a
    message, one rate-limited, retried Bot API call, the clock, and the Bot API."""

    incoming: Callable[[Update, Message, str], Incoming | None]
    for_other_bot: Callable[[str], bool]
    handle: Callable[[Incoming], Awaitable[list[Reply]]]
    deliver: Callable[[int, Sequence[Reply], Message | None], Awaitable[None]]
    call: Callable[..., Awaitable[Any]]
    clock: Callable[[], datetime]
    bot: Bot


class ReportForm:
    """`handlers()` are what the bot registers in group 0."""

    def __init__(self, drafts: Drafts, ports: FormPorts, timeout_s: float) -> None:
        self.drafts = drafts
        self.ports = ports
        self.timeout_s = timeout_s

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        text = filters.TEXT & ~filters.UpdateType.EDITED
        return [
            MessageHandler(text, self.on_message),
            CallbackQueryHandler(self.on_button, pattern=r"^form:"),
        ]

    # --- answers ------------------------------------------------------------------------------

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A member's text: a new form, an answer, /huy; anything else goes on."""
        message, text = _text_of(update)
        if self.ports.for_other_bot(text):
            return
        command = text.lstrip().startswith("/")
        if command and not (_FORM_START.match(text) or _CANCEL.match(text)):
            # Never an answer, whatever the member's draft: the bot's other handlers answer
            # it, without a read of the drafts (a report typed in full, on a Monday, is
            # most of the traffic). An expired draft is told by the sweep.
            return
        incoming = self.ports.incoming(update, message, text)
        if incoming is None:
            return
        key = DraftKey(PLATFORM, incoming.chat_id, incoming.user_id)
        for _ in range(_ATTEMPTS):
            draft = await self._current(key, message)
            if draft is None:
                if _FORM_START.match(text):
                    await self._start(incoming, key, message)
                    raise ApplicationHandlerStop
                return  # no form: the bot's other handlers answer
            if message.message_id in draft.taken:
                # Delivered again (a webhook retry, another worker): taken already.
                log.info("telegram: form answer %s taken already", message.message_id)
                raise ApplicationHandlerStop
            if _CANCEL.match(text):
                if await self.drafts.discard(key, draft):
                    await self._say(message, texts.FORM_CANCELLED)
                    raise ApplicationHandlerStop
                continue  # answered meanwhile elsewhere: read it again
            if command or draft.stage is Stage.CONFIRM:
                return  # other commands, and text under the summary, are not answers
            changed = draft.copy()
            if draft.stage is Stage.UNIT:
                prompt = await self.drafts.choose_unit(changed, text, message.date)
            else:
                prompt = self.drafts.answer(changed, text)
            changed.took(message.message_id)
            if await self.drafts.save(key, changed, self.ports.clock()):
                await self._show(key, changed, message, prompt)
                raise ApplicationHandlerStop
        log.error("telegram: form answer %s not taken: the draft kept changing", message.message_id)
        raise ApplicationHandlerStop

    async def _start(self, incoming: Incoming, key: DraftKey, message: Message) -> None:
        started = await self.drafts.start(incoming)
        if started is None:
            # Strangers, leaders and unknown groups get the engine's own answer.
            await self.ports.deliver(message.chat.id, await self.ports.handle(incoming), message)
            return
        draft, prompt = started
        draft.took(message.message_id)
        draft.topic = str(message.message_thread_id) if message.is_topic_message else None
        # Replaces any older draft; False: another worker started it from this very message.
        if await self.drafts.save(key, draft, self.ports.clock()):
            await self._show(key, draft, message, prompt)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Gửi / Sửa / Hủy under the summary; a press by someone with no summary goes on
        (the bot answers that the button is not theirs)."""
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None or not isinstance(query.message, Message):
            return
        message = query.message
        key = DraftKey(PLATFORM, str(message.chat.id), str(user.id))
        for _ in range(_ATTEMPTS):
            draft = await self._current(key, None)
            if draft is None or draft.stage is not Stage.CONFIRM:
                return
            if query.data == "form:edit":
                changed = draft.copy()
                prompt = self.drafts.edit(changed)
                if not await self.drafts.save(key, changed, self.ports.clock()):
                    continue
                await self._take(query, message)
                await self._show(key, changed, message, prompt)
                raise ApplicationHandlerStop
            if not await self.drafts.discard(key, draft):
                continue  # pressed twice, on two workers: the first press counts
            await self._take(query, message)
            if query.data == "form:send":
                incoming = self.ports.incoming(update, message, self.drafts.report_text(draft))
                if incoming is not None:
                    # Sent as if typed: the engine validates and stores it like any report.
                    # Its time is the summary's (the member's last answer), not the press.
                    replies = await self.ports.handle(incoming)
                    await self.ports.deliver(message.chat.id, replies, None)
            else:
                await self._say(message, texts.FORM_CANCELLED)
            raise ApplicationHandlerStop
        raise ApplicationHandlerStop

    async def _take(self, query: Any, message: Message) -> None:
        await self.ports.call(lambda: query.answer(), what="answerCallbackQuery")
        await self.ports.call(
            lambda: message.edit_reply_markup(None), what="editMessageReplyMarkup"
        )

    async def _current(self, key: DraftKey, message: Message | None) -> Draft | None:
        """The member's live draft; an expired one is ended here (the member told, quoting
        `message`) and None returned."""
        draft = await self.drafts.load(key)
        if draft is None or not self.drafts.expired(draft, self.ports.clock()):
            return draft
        if await self.drafts.discard(key, draft):
            await self._tell_expired(key, draft, message)
        return None

    # --- expiry -------------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Tell the members whose drafts expired (each draft claimed by one worker); how many."""
        claimed = await self.drafts.claim_expired(PLATFORM, self.ports.clock())
        for key, draft in claimed:
            await self._tell_expired(key, draft, None)
        return len(claimed)

    async def sweep_forever(self, stopping: asyncio.Event) -> None:
        every = sweep_every(self.timeout_s)
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every)
            if stopping.is_set():
                break
            try:
                await self.sweep()
            except Exception:
                log.exception("telegram: the sweep for expired forms failed; trying again")

    async def _tell_expired(self, key: DraftKey, draft: Draft, message: Message | None) -> None:
        text = self.drafts.timeout_text(self.timeout_s)
        if message is not None:
            await self._say(message, text)
            return
        chat_id = int(key.chat_id)
        group = chat_id < 0  # Telegram: groups and supergroups have negative ids
        quoted = (
            ReplyParameters(draft.last_message_id, allow_sending_without_reply=True)
            if group and draft.last_message_id
            else None
        )
        topic = int(draft.topic) if draft.topic else None
        for page in to_html((Text.of(text),)):
            await self.ports.call(
                partial(
                    self.ports.bot.send_message,
                    chat_id,
                    page,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=quoted,
                    message_thread_id=topic,
                ),
                what="sendMessage",
                chat=chat_id,
                payload=page,
            )

    # --- showing ------------------------------------------------------------------------------

    async def _show(self, key: DraftKey, draft: Draft, message: Message, prompt: Prompt) -> None:
        """A question as a ForceReply to the member; the summary with Gửi / Sửa / Hủy. The
        message that asked is remembered with the draft."""
        if prompt.stage is Stage.CONFIRM:
            buttons = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(label, callback_data=f"form:{action}")
                        for action, label in CONFIRM_ACTIONS
                    ]
                ]
            )
            sent = await self._send(message, prompt.text, buttons)
        else:
            sent = await self._ask(message, prompt.text)
        if sent is not None:
            await self.drafts.asked(key, draft, str(sent.message_id))

    async def _ask(self, message: Message, text: str, question: bool = True) -> Message | None:
        """In a group a question is a reply with a selective ForceReply, so the member's
        answer reaches the bot even with privacy mode on."""
        markup = ForceReply(selective=True) if question and message.chat.type != "private" else None
        return await self._send(message, text, markup)

    async def _say(self, message: Message, text: str) -> None:
        await self._ask(message, text, question=False)

    async def _send(
        self, message: Message, text: str, markup: ForceReply | InlineKeyboardMarkup | None
    ) -> Message | None:
        """Every page; the last one sent."""
        sent = None
        for page in to_html((Text.of(text),)):
            sent = await self.ports.call(
                partial(message.reply_html, page, reply_markup=markup), what="sendMessage"
            )
        return sent if isinstance(sent, Message) else None


def _text_of(update: Update) -> tuple[Message, str]:
    """The message and its text, for handlers whose filters admit text messages only."""
    message = update.effective_message
    if message is None or message.text is None:
        raise TypeError(f"update {update.update_id} carries no text message")
    return message, message.text
