"""A report typed field by field (the step-by-step `/baocao`), without any chat platform.

A platform's form only drives this service: it starts a draft for the sender, shows each
`Prompt`, hands back what the sender answered, and at the end sends `report_text(draft)` to
the engine as if it had been typed, so it is validated and stored like any report. Drafts are
plain values the caller keeps (in process memory for now).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from core import messages as msg
from core.catalogue import Field, Role, Unit
from core.chat import Incoming
from core.numbers import NumberError, format_int, parse_count
from handlers.commands import COMMANDS
from handlers.common import Refusal, find_unit, template_text
from handlers.engine import Engine


class Stage(Enum):
    UNIT = "unit"  # which unit the report is for (an admin's draft)
    FIELD = "field"  # one figure
    CONFIRM = "confirm"  # the summary: send, edit or cancel


# What the summary offers: (action, button label).
CONFIRM_ACTIONS = (
    ("send", msg.FORM_BUTTON_SEND),
    ("edit", msg.FORM_BUTTON_EDIT),
    ("cancel", msg.FORM_BUTTON_CANCEL),
)


@dataclass
class Draft:
    """A report being typed field by field."""

    unit: Unit | None = None
    values: dict[str, int] = field(default_factory=dict)
    index: int = 0
    fields: tuple[Field, ...] = ()  # the ones asked: required, and those the unit reports
    previous: Mapping[str, int] = field(default_factory=dict)  # the unit's latest report

    @property
    def stage(self) -> Stage:
        if self.unit is None:
            return Stage.UNIT
        return Stage.FIELD if self.index < len(self.fields) else Stage.CONFIRM


@dataclass(frozen=True)
class Prompt:
    """What to show next, and at which stage the draft now is (a refused answer repeats it)."""

    text: str
    stage: Stage


class Drafts:
    """The draft rules: who may fill one, which fields are asked, how answers are read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.catalogue = engine.catalogue

    async def start(self, message: Incoming) -> tuple[Draft, Prompt] | None:
        """A draft for the sender of `message`, or None when they may not report (strangers,
        leaders, unknown groups: the engine's own answer to the message is theirs)."""
        actor = await self.engine.actor(message)
        if actor is None or not COMMANDS["baocao"].allows(actor):  # who may report at all
            return None
        draft = Draft()
        if actor.role is Role.OFFICER and actor.unit is not None:
            return draft, await self._for_unit(draft, actor.unit, message.sent_at)
        return draft, Prompt(msg.FORM_ASK_UNIT, Stage.UNIT)

    async def choose_unit(self, draft: Draft, text: str, sent_at: datetime) -> Prompt:
        try:
            unit = find_unit(self.catalogue, text)
        except Refusal as refusal:
            return Prompt(refusal.text, Stage.UNIT)
        return await self._for_unit(draft, unit, sent_at)

    def answer(self, draft: Draft, text: str) -> Prompt:
        """The answer to the current field: a count, `.` to keep what was typed before, or
        `-` to leave an optional field out."""
        if draft.stage is not Stage.FIELD:
            return self.prompt(draft)
        fld = draft.fields[draft.index]
        answer = text.strip()
        if answer == "." and fld.code in draft.values:
            pass
        elif answer == "-" and not fld.required:
            draft.values.pop(fld.code, None)
        else:
            try:
                draft.values[fld.code] = parse_count(answer)
            except NumberError as exc:
                return Prompt(msg.form_bad_value(str(exc)), Stage.FIELD)
        draft.index += 1
        return self.prompt(draft)

    def edit(self, draft: Draft) -> Prompt:
        """Back to the first field, the answers kept as defaults."""
        draft.index = 0
        return self.prompt(draft)

    def prompt(self, draft: Draft, intro: str = "") -> Prompt:
        stage = draft.stage
        if stage is Stage.UNIT:
            return Prompt(msg.FORM_ASK_UNIT, stage)
        if stage is Stage.CONFIRM:
            return Prompt(msg.form_summary(self.report_text(draft)), stage)
        fld = draft.fields[draft.index]
        current = draft.values.get(fld.code)
        before = draft.previous.get(fld.code)
        question = msg.form_ask(
            fld.label,
            draft.index + 1,
            len(draft.fields),
            fld.required,
            format_int(current) if current is not None else None,
            format_int(before) if before is not None else None,
        )
        return Prompt((intro + "\n\n" if intro else "") + question, stage)

    def report_text(self, draft: Draft) -> str:
        """The draft as the `/baocao` message it stands for (the summary shows the same)."""
        return template_text(self.catalogue, draft.unit, draft.values, only_given=True)

    def timeout_text(self, timeout_s: float) -> str:
        return msg.form_timeout(max(1, round(timeout_s / 60)))

    async def _for_unit(self, draft: Draft, unit: Unit, sent_at: datetime) -> Prompt:
        """Ask the required fields and the optional ones the unit reported last time, each
        with last time's figure beside it: the usual report in as few questions as it takes."""
        period = self.catalogue.calendar.place(sent_at).period
        async with self.engine.db.unit_of_work() as uow:
            latest = await uow.submissions.recent(unit.code, period.key, 1)
        draft.unit = unit
        draft.previous = dict(latest[0].values) if latest else {}
        draft.fields = tuple(
            f for f in self.catalogue.fields if f.required or f.code in draft.previous
        )
        draft.index = 0
        return self.prompt(draft, intro=msg.form_start(unit.name))
