"""The step-by-step `/baocao` form on Telegram: `/baocao` without values asks each field in
turn, for the sender alone, then shows a summary with Gửi / Sửa / Hủy.

A ConversationHandler keyed on chat *and* user keeps members of a group apart; in a group each
question is a reply with a selective ForceReply, so the member's answer reaches the bot with
privacy mode on. The finished form is sent to the engine as the report text it stands for, so
it is validated and stored like any typed report.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

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

from bot.telegram.render import to_html
from core import messages as msg
from core.catalogue import Field, Role, Unit
from core.chat import Text
from core.numbers import NumberError, format_int, parse_count
from handlers.common import Refusal, find_unit, template_text

if TYPE_CHECKING:
    from bot.telegram.bot import TelegramBot

# Form states.
ASK_UNIT, ASK_FIELD, CONFIRM = range(3)
_FORM_START = re.compile(r"^\s*/(baocao|report)(@\w+)?\s*$", re.IGNORECASE)
_CANCEL = re.compile(r"^\s*/(huy|cancel)(@\w+)?\s*$", re.IGNORECASE)


@dataclass
class _Form:
    """A report being typed field by field."""

    unit: Unit | None = None
    values: dict[str, int] = field(default_factory=dict)
    index: int = 0
    fields: tuple[Field, ...] = ()  # the ones asked: required, and those the unit reports
    previous: Mapping[str, int] = field(default_factory=dict)  # the unit's latest report


class ReportForm:
    """The form's steps; `handler()` is the ConversationHandler the bot registers first."""

    def __init__(self, bot: TelegramBot) -> None:
        self.bot = bot

    def handler(self) -> ConversationHandler[Any]:
        text = filters.TEXT & ~filters.UpdateType.EDITED
        with warnings.catch_warnings():
            # CallbackQueryHandler in a per-chat-and-user form is what we want (the buttons
            # belong to the form's last message); PTB warns about the general case.
            warnings.simplefilter("ignore", PTBUserWarning)
            return ConversationHandler(
                entry_points=[MessageHandler(text & filters.Regex(_FORM_START), self.start)],
                states={
                    ASK_UNIT: [MessageHandler(text & ~filters.COMMAND, self.unit)],
                    ASK_FIELD: [MessageHandler(text & ~filters.COMMAND, self.field)],
                    CONFIRM: [CallbackQueryHandler(self.button, pattern=r"^form:")],
                    ConversationHandler.TIMEOUT: [TypeHandler(Update, self.timeout)],
                },
                fallbacks=[MessageHandler(text & filters.Regex(_CANCEL), self.cancel)],
                per_chat=True,
                per_user=True,
                conversation_timeout=self.bot.settings.form_timeout_s,
                name="baocao_form",
            )

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, text = _text_of(update)
        if self.bot.for_other_bot(text):
            return ConversationHandler.END
        incoming = self.bot.incoming(update, message, text)
        actor = await self.bot.engine.actor(incoming) if incoming else None
        if incoming is None or actor is None or actor.role not in (Role.OFFICER, Role.ADMIN):
            # Strangers, leaders and unknown groups get the engine's own answer.
            if incoming is not None:
                await self.bot.deliver(
                    message.chat.id, await self.bot.engine.handle(incoming), message
                )
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
        period = self.bot.catalogue.calendar.place(message.date).period
        async with self.bot.engine.db.unit_of_work() as uow:
            latest = await uow.submissions.recent(unit.code, period.key, 1)
        form.previous = dict(latest[0].values) if latest else {}
        form.fields = tuple(
            f for f in self.bot.catalogue.fields if f.required or f.code in form.previous
        )
        return await self._next_field(message, form, intro=msg.form_start(unit.name))

    async def unit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, text = _text_of(update)
        form = _get_form(context, update)
        try:
            form.unit = unit = find_unit(self.bot.catalogue, text)
        except Refusal as refusal:
            await self._ask(message, refusal.text)
            return ASK_UNIT
        return await self._first_field(message, form, unit)

    async def field(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
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
        summary = template_text(self.bot.catalogue, form.unit, form.values, only_given=True)
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
            await self.bot.call(
                partial(message.reply_html, page, reply_markup=buttons), what="sendMessage"
            )
        return CONFIRM

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return ConversationHandler.END
        await self.bot.call(lambda: query.answer(), what="answerCallbackQuery")
        form = _get_form(context, update)
        message = query.message
        await self.bot.call(lambda: message.edit_reply_markup(None), what="editMessageReplyMarkup")
        if query.data == "form:cancel":
            await self._say(message, msg.FORM_CANCELLED)
            return ConversationHandler.END
        if query.data == "form:edit":
            form.index = 0
            return await self._next_field(message, form)
        text = template_text(self.bot.catalogue, form.unit, form.values, only_given=True)
        incoming = self.bot.incoming(update, message, text)
        if incoming is not None:
            # Sent as if typed: the engine validates and stores it like any report. Its time
            # is the summary's (the member's last answer), not the button press.
            await self.bot.deliver(message.chat.id, await self.bot.engine.handle(incoming))
        return ConversationHandler.END

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        message, _ = _text_of(update)
        await self._say(message, msg.FORM_CANCELLED)
        return ConversationHandler.END

    async def timeout(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None:
            await self._say(
                message, msg.form_timeout(max(1, round(self.bot.settings.form_timeout_s / 60)))
            )

    async def _ask(self, message: Message, text: str, question: bool = True) -> None:
        """A question to one member: in a group it is a reply with a selective ForceReply, so
        the member's answer reaches the bot even with privacy mode on."""
        markup = ForceReply(selective=True) if question and message.chat.type != "private" else None
        for page in to_html((Text.of(text),)):
            await self.bot.call(
                partial(message.reply_html, page, reply_markup=markup), what="sendMessage"
            )

    async def _say(self, message: Message, text: str) -> None:
        await self._ask(message, text, question=False)


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
