"""The step-by-step `/baocao` form on Telegram: PTB's ConversationHandler, ForceReply and
inline buttons driving the platform-free draft service (`handlers.drafts`).

A ConversationHandler keyed on chat *and* user keeps members of a group apart; in a group each
question is a reply with a selective ForceReply, so the member's answer reaches the bot with
privacy mode on. The finished draft goes to the engine as the report text it stands for, so
it is validated and stored like any typed report.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    CallbackQueryHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.telegram import texts
from bot.telegram.html import to_html
from core.chat import Incoming, Reply, Text
from handlers.drafts import CONFIRM_ACTIONS, Draft, Drafts, Prompt, Stage

_FORM_START = re.compile(r"^\s*/(baocao|report)(@\w+)?\s*$", re.IGNORECASE)
_CANCEL = re.compile(r"^\s*/(huy|cancel)(@\w+)?\s*$", re.IGNORECASE)
_STATE = {Stage.UNIT: 0, Stage.FIELD: 1, Stage.CONFIRM: 2}


@dataclass(frozen=True)
class FormPorts:
    """What the form needs from the bot: translating an update, handling and delivering a
    message, and one rate-limited, retried Bot API call."""

    incoming: Callable[[Update, Message, str], Incoming | None]
    for_other_bot: Callable[[str], bool]
    handle: Callable[[Incoming], Awaitable[list[Reply]]]
    deliver: Callable[[int, Sequence[Reply], Message | None], Awaitable[None]]
    call: Callable[..., Awaitable[Any]]


class ReportForm:
    """`handler()` is the ConversationHandler the bot registers first."""

    def __init__(self, drafts: Drafts, ports: FormPorts, timeout_s: float) -> None:
        self.drafts = drafts
        self.ports = ports
        self.timeout_s = timeout_s

    def handler(self) -> ConversationHandler[Any]:
        text = filters.TEXT & ~filters.UpdateType.EDITED
        answer = text & ~filters.COMMAND
        with warnings.catch_warnings():
            # CallbackQueryHandler in a per-chat-and-user form is what we want (the buttons
            # belong to the form's last message); PTB warns about the general case.
            warnings.simplefilter("ignore", PTBUserWarning)
            return ConversationHandler(
                entry_points=[MessageHandler(text & filters.Regex(_FORM_START), self.start)],
                states={
                    _STATE[Stage.UNIT]: [MessageHandler(answer, self.unit)],
                    _STATE[Stage.FIELD]: [MessageHandler(answer, self.field)],
                    _STATE[Stage.CONFIRM]: [CallbackQueryHandler(self.button, pattern=r"^form:")],
                    ConversationHandler.TIMEOUT: [TypeHandler(Update, self.timeout)],
                },
                fallbacks=[MessageHandler(text & filters.Regex(_CANCEL), self.cancel)],
                per_chat=True,
                per_user=True,
                conversation_timeout=self.timeout_s,
                name="baocao_form",
            )

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, text = _text_of(update)
        if self.ports.for_other_bot(text):
            return ConversationHandler.END
        incoming = self.ports.incoming(update, message, text)
        if incoming is None:
            return ConversationHandler.END
        started = await self.drafts.start(incoming)
        if started is None:
            # Strangers, leaders and unknown groups get the engine's own answer.
            await self.ports.deliver(message.chat.id, await self.ports.handle(incoming), message)
            return ConversationHandler.END
        draft, prompt = started
        _set_draft(context, update, draft)
        return await self._show(message, prompt)

    async def unit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, text = _text_of(update)
        prompt = await self.drafts.choose_unit(_get_draft(context, update), text, message.date)
        return await self._show(message, prompt)

    async def field(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, text = _text_of(update)
        return await self._show(message, self.drafts.answer(_get_draft(context, update), text))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return ConversationHandler.END
        await self.ports.call(lambda: query.answer(), what="answerCallbackQuery")
        draft = _get_draft(context, update)
        message = query.message
        await self.ports.call(
            lambda: message.edit_reply_markup(None), what="editMessageReplyMarkup"
        )
        if query.data == "form:cancel":
            await self._say(message, texts.FORM_CANCELLED)
            return ConversationHandler.END
        if query.data == "form:edit":
            return await self._show(message, self.drafts.edit(draft))
        incoming = self.ports.incoming(update, message, self.drafts.report_text(draft))
        if incoming is not None:
            # Sent as if typed: the engine validates and stores it like any report. Its time
            # is the summary's (the member's last answer), not the button press.
            await self.ports.deliver(message.chat.id, await self.ports.handle(incoming), None)
        return ConversationHandler.END

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, _ = _text_of(update)
        await self._say(message, texts.FORM_CANCELLED)
        return ConversationHandler.END

    async def timeout(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None:
            await self._say(message, self.drafts.timeout_text(self.timeout_s))

    async def _show(self, message: Message, prompt: Prompt) -> int:
        """A question as a ForceReply to the member; the summary with Gửi / Sửa / Hủy."""
        if prompt.stage is Stage.CONFIRM:
            buttons = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(label, callback_data=f"form:{action}")
                        for action, label in CONFIRM_ACTIONS
                    ]
                ]
            )
            await self._send(message, prompt.text, buttons)
        else:
            await self._ask(message, prompt.text)
        return _STATE[prompt.stage]

    async def _ask(self, message: Message, text: str, question: bool = True) -> None:
        """In a group a question is a reply with a selective ForceReply, so the member's
        answer reaches the bot even with privacy mode on."""
        markup = ForceReply(selective=True) if question and message.chat.type != "private" else None
        await self._send(message, text, markup)

    async def _say(self, message: Message, text: str) -> None:
        await self._ask(message, text, question=False)

    async def _send(
        self, message: Message, text: str, markup: ForceReply | InlineKeyboardMarkup | None
    ) -> None:
        for page in to_html((Text.of(text),)):
            await self.ports.call(
                partial(message.reply_html, page, reply_markup=markup), what="sendMessage"
            )


def _text_of(update: Update) -> tuple[Message, str]:
    """The message and its text, for handlers whose filters admit text messages only."""
    message = update.effective_message
    if message is None or message.text is None:
        raise TypeError(f"update {update.update_id} carries no text message")
    return message, message.text


def _drafts(context: ContextTypes.DEFAULT_TYPE) -> dict[Any, Any]:
    """The user's drafts, one per chat (the ConversationHandler keys on chat and user)."""
    if context.user_data is None:
        raise RuntimeError("a form needs user data")
    return context.user_data


def _get_draft(context: ContextTypes.DEFAULT_TYPE, update: Update) -> Draft:
    chat = update.effective_chat
    draft = _drafts(context).get(("form", chat.id if chat else 0))
    return draft if isinstance(draft, Draft) else _set_draft(context, update, Draft())


def _set_draft(context: ContextTypes.DEFAULT_TYPE, update: Update, draft: Draft) -> Draft:
    chat = update.effective_chat
    _drafts(context)[("form", chat.id if chat else 0)] = draft
    return draft
