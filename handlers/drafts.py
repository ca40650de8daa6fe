"""A report typed field by field (the step-by-step `/baocao`), without any chat platform.

A platform's form only drives this service: it starts a draft for the sender, shows each
`Prompt`, hands back what the sender answered, and at the end sends `report_text(draft)` to
the engine as if it had been typed, so it is validated and stored like any report.

Drafts live in the database (table `form_drafts`), keyed by platform, chat and member, so any
worker behind a balancer continues a draft another started. A platform's form reads the draft
at each answer and writes it back naming the version it read (`save`); when another worker
wrote in between, the write is refused and the answer is taken again on the newer draft, so
answer N is field N whichever worker gets it, and a redelivered answer (a message id the draft
took already) is not taken twice. A draft expires `timeout_s` after its last
answer: `claim_expired` hands each expired draft to exactly one worker, which tells the member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from core import messages as msg
from core.catalogue import Field, Role, Unit
from core.chat import Incoming
from core.numbers import NumberError, format_int, parse_count
from core.periods import Period
from handlers.commands import COMMANDS
from handlers.common import Refusal, find_unit, template_text
from handlers.engine import Engine
from storage.repositories import StoredDraft

# How many of a member's recent message ids a draft keeps to know a redelivered one: more
# than a form has questions, so any message of the form delivered again is recognised.
TAKEN_KEPT = 50
# The default time a draft waits for its next answer (TelegramSettings.form_timeout_s).
DEFAULT_TIMEOUT_S = 600.0


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
    # The week asked for: the one the unit was chosen in, kept so the report is sent for it
    # however late the last answer comes (None: a draft stored before it was kept, placed
    # by the time it is sent, as a report typed without a week).
    period: Period | None = None
    # Where it is kept (`Drafts.load` / `save`): the stored version (0: never stored), when it
    # expires, and the platform's ids: the last question asked, the member's last message
    # taken, their recent messages taken (one of these again is a redelivery), the topic.
    version: int = 0
    expires_at: datetime | None = None
    question_id: str | None = None
    last_message_id: int = 0
    taken: tuple[int, ...] = ()
    topic: str | None = None

    def took(self, message_id: int) -> None:
        """The member's message `message_id` was taken (an answer or the start)."""
        self.last_message_id = message_id
        self.taken = (*self.taken, message_id)[-TAKEN_KEPT:]

    def copy(self) -> Draft:
        """A draft to change and save: the stored one stays as read."""
        return replace(self, values=dict(self.values))

    @property
    def stage(self) -> Stage:
        if self.unit is None:
            return Stage.UNIT
        return Stage.FIELD if self.index < len(self.fields) else Stage.CONFIRM


@dataclass(frozen=True)
class DraftKey:
    """Whose draft: one per member and chat on a platform."""

    platform: str
    chat_id: str
    user_id: str


@dataclass(frozen=True)
class Prompt:
    """What to show next, and at which stage the draft now is (a refused answer repeats it)."""

    text: str
    stage: Stage


class Drafts:
    """The draft rules: who may fill one, which fields are asked, how answers are read."""

    def __init__(self, engine: Engine, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.engine = engine
        self.catalogue = engine.catalogue
        self.timeout = timedelta(seconds=timeout_s)

    # --- kept in the database -----------------------------------------------------------------

    async def load(self, key: DraftKey) -> Draft | None:
        """The member's draft as stored (expired or not: see `expired`), or None."""
        async with self.engine.db.unit_of_work() as uow:
            stored = await uow.drafts.get(key.platform, key.chat_id, key.user_id)
        return None if stored is None else self._draft(stored)

    def expired(self, draft: Draft, now: datetime) -> bool:
        return draft.expires_at is not None and draft.expires_at <= now

    async def save(self, key: DraftKey, draft: Draft, now: datetime) -> bool:
        """Store `draft`, expiring `timeout` after `now`. A draft read from the database
        (version > 0) is written only if nobody wrote it since: False means another worker
        did, and the caller reads it again. A new draft (version 0) replaces any other."""
        read = draft.version or None
        draft.version += 1
        draft.expires_at = now + self.timeout
        async with self.engine.db.unit_of_work() as uow:
            stored = await uow.drafts.put(self._stored(key, draft), read)
            await uow.commit()
        if not stored:
            draft.version -= 1
        return stored

    async def asked(self, key: DraftKey, draft: Draft, question_id: str) -> None:
        """Remember which message asked the draft's current question (a ForceReply); nothing
        when the draft moved on meanwhile."""
        async with self.engine.db.unit_of_work() as uow:
            await uow.drafts.set_question(
                key.platform, key.chat_id, key.user_id, draft.version, question_id
            )
            await uow.commit()
        draft.question_id = question_id

    async def discard(self, key: DraftKey, draft: Draft) -> bool:
        """End the draft (sent, cancelled, expired) if it is still as read: True for the one
        worker that did, False when another changed or ended it first."""
        async with self.engine.db.unit_of_work() as uow:
            done = await uow.drafts.delete(key.platform, key.chat_id, key.user_id, draft.version)
            await uow.commit()
        return done

    async def claim_expired(self, platform: str, now: datetime) -> list[tuple[DraftKey, Draft]]:
        """The drafts of `platform` expired at `now`, each deleted here and so handed to
        exactly one caller (whichever worker's sweep comes first), to tell its member."""
        async with self.engine.db.unit_of_work() as uow:
            expired = await uow.drafts.expired(platform, now)
        claimed = []
        for stored in expired:
            key = DraftKey(stored.platform, stored.chat_id, stored.user_id)
            draft = self._draft(stored)
            if draft is not None and await self.discard(key, draft):
                claimed.append((key, draft))
        return claimed

    def _draft(self, stored: StoredDraft) -> Draft:
        units = {u.code: u for u in self.catalogue.units}
        fields = {f.code: f for f in self.catalogue.fields}
        unit = units.get(stored.unit) if stored.unit is not None else None
        try:
            period = Period.parse(stored.period) if stored.period is not None else None
        except ValueError:
            period = None
        asked = tuple(fields[c] for c in stored.fields if c in fields)
        return Draft(
            unit=unit,
            values={k: v for k, v in stored.values.items() if k in fields},
            # A unit or field gone from the config meanwhile: start again from the first.
            index=stored.index if len(asked) == len(stored.fields) else 0,
            fields=asked,
            previous=dict(stored.previous),
            period=period,
            version=stored.version,
            expires_at=stored.expires_at,
            question_id=stored.question_id,
            last_message_id=stored.last_message_id,
            taken=stored.taken,
            topic=stored.topic,
        )

    def _stored(self, key: DraftKey, draft: Draft) -> StoredDraft:
        assert draft.expires_at is not None
        return StoredDraft(
            platform=key.platform,
            chat_id=key.chat_id,
            user_id=key.user_id,
            version=draft.version,
            stage=draft.stage.value,
            unit=draft.unit.code if draft.unit is not None else None,
            values=dict(draft.values),
            index=draft.index,
            fields=tuple(f.code for f in draft.fields),
            previous=dict(draft.previous),
            expires_at=draft.expires_at,
            question_id=draft.question_id,
            last_message_id=draft.last_message_id,
            taken=draft.taken,
            topic=draft.topic,
            period=draft.period.key if draft.period is not None else None,
        )

    # --- the rules ----------------------------------------------------------------------------

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
            week = draft.period.label if draft.period is not None else None
            unit = draft.unit.name if draft.unit is not None else ""
            return Prompt(msg.form_summary(self.report_text(draft), week, unit), stage)
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
        """The draft as the `/baocao` message it stands for (the summary shows the same),
        naming the draft's week (`Tuần: 46/2024`) so the engine stores it for that week, or
        makes it a correction request when the week closed meanwhile."""
        return template_text(
            self.catalogue, draft.unit, draft.values, period=draft.period, only_given=True
        )

    def timeout_text(self, timeout_s: float) -> str:
        return msg.form_timeout(max(1, round(timeout_s / 60)))

    async def _for_unit(self, draft: Draft, unit: Unit, sent_at: datetime) -> Prompt:
        """Ask the required fields and the optional ones the unit reported last time, each
        with last time's figure beside it: the usual report in as few questions as it takes."""
        period = self.catalogue.calendar.place(sent_at).period
        async with self.engine.db.unit_of_work() as uow:
            latest = await uow.submissions.recent(unit.code, period.key, 1)
        draft.unit = unit
        draft.period = period
        draft.previous = dict(latest[0].values) if latest else {}
        draft.fields = tuple(
            f for f in self.catalogue.fields if f.required or f.code in draft.previous
        )
        draft.index = 0
        return self.prompt(draft, intro=msg.form_start(msg.form_heading(period.label, unit.name)))
