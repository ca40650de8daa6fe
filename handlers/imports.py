"""Importing the office's spreadsheets: a preview of what would change, then storing it.

The same checks as a chat report (`handlers.reports`: the optional groups carried forward,
`core.validation.review` against the unit's earlier weeks): an error refuses the row, a
warning or a confirmation is shown with it. Storing an unchanged row adds nothing, so a file
imported twice changes nothing the second time. Imported versions are marked with the chat
`import`, the admin who imported them as their sender and the file and row in their text;
each is audited. Used by `python -m bot import` and by an admin's .xlsx sent to the bot in a
private chat (held in `pending_imports` until /xacnhan).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from core import messages as msg
from core.catalogue import Catalogue
from core.chat import Reply, Text, reply
from core.closing import IMPORT_CHAT, is_closed
from core.importing import ImportRefused, SheetReading, SheetRow, read_sheets
from core.numbers import format_int
from core.periods import Period
from core.submission import PendingReport, Sender, Submission
from core.validation import review
from handlers import reports
from handlers.context import Request
from handlers.reports import HISTORY_WEEKS, _carry_forward
from storage import UnitOfWork
from storage.repositories import PendingImport

# Larger files are refused before they are downloaded.
MAX_IMPORT_BYTES = 2 * 1024 * 1024
# An admin's previewed import waits this long for /xacnhan.
IMPORT_TTL = timedelta(hours=1)

NEW, CHANGED, UNCHANGED, REFUSED = "new", "changed", "unchanged", "refused"


@dataclass(frozen=True)
class RowPlan:
    """What importing one row would do."""

    row: SheetRow
    status: str
    values: Mapping[str, int]
    existing: Submission | None = None
    changes: tuple[tuple[str, str, str], ...] = ()  # (field code, old, new)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Its week closed after the figures people saw: stored, and recorded as an approved
    # correction (`handlers.closing`), so the history marks it and the next digest says so.
    closed: bool = False

    @property
    def stores(self) -> bool:
        return self.status in (NEW, CHANGED)


def read_file(
    data: bytes, catalogue: Catalogue, file_name: str, period: Period | None = None
) -> SheetReading:
    """The table of an .xlsx file; ImportRefused (its text Vietnamese) when there is none."""
    from render.sheets import UnreadableFile, read_xlsx

    try:
        sheets = read_xlsx(data)
    except UnreadableFile as exc:
        raise ImportRefused(msg.IMPORT_UNREADABLE) from exc
    return read_sheets(sheets, catalogue, file_name, period)


async def plan(
    uow: UnitOfWork, catalogue: Catalogue, reading: SheetReading, now: datetime
) -> list[RowPlan]:
    """Each row checked against what is stored and against the earlier weeks the same file
    brings (a sheet of several weeks is read in week order), in the sheet's row order. A week
    after the one being reported at `now` is refused, as in a chat report. A row that would
    change an approved week is refused (an admin reopens it first with /mokhoa); one that
    changes a closed week which had reports is marked `closed`. A closed week nobody had
    reported for (the office bringing in its weeks from before the bot) is plain history."""
    plans: dict[int, RowPlan] = {}
    by_unit: dict[str, list[SheetRow]] = {}
    reported = catalogue.calendar.place(now).period
    weeks = await _week_states(uow, catalogue, reading, now)
    for row in reading.rows:
        if row.problems or row.unit is None or row.period is None:
            plans[row.number] = RowPlan(row, REFUSED, row.values, problems=row.problems)
        elif Period.parse(row.period) > reported:
            where = msg.import_row(row.number, [])
            future = msg.period_in_future(Period.parse(row.period).label, reported.label)
            plans[row.number] = RowPlan(row, REFUSED, row.values, problems=(f"{where}: {future}",))
        else:
            by_unit.setdefault(row.unit, []).append(row)
    for unit, rows in by_unit.items():
        rows.sort(key=lambda r: str(r.period))
        first, last = Period.parse(str(rows[0].period)), Period.parse(str(rows[-1].period))
        span = (last.monday - first.monday).days // 7
        stored = await uow.submissions.recent(unit, last.key, HISTORY_WEEKS + span + 1)
        current = {s.period: s for s in stored}
        known: dict[str, Submission] = dict(current)  # stored, then this file's accepted rows
        for row in rows:
            result = _judge(catalogue, reading, row, current.get(str(row.period)), known)
            state = weeks.get(str(row.period))
            if result.stores and state == APPROVED_WEEK:
                week = Period.parse(str(row.period))
                where = msg.import_row(row.number, [])
                locked = msg.import_week_approved(week.label, f"{week.week}/{week.year}")
                result = replace(result, status=REFUSED, problems=(f"{where}: {locked}",))
            elif result.stores and state == CLOSED_WEEK:
                result = replace(result, closed=True)
            plans[row.number] = result
            if result.stores:
                known[str(row.period)] = Submission(
                    unit, str(row.period), 0, result.values, row.late, _EPOCH, _NOBODY
                )
    return [plans[n] for n in sorted(plans)]


APPROVED_WEEK, CLOSED_WEEK = "approved", "closed"


async def _week_states(
    uow: UnitOfWork, catalogue: Catalogue, reading: SheetReading, now: datetime
) -> dict[str, str]:
    """The file's weeks that are approved (final) or closed with reports stored, as they are
    before anything of the file is stored; an open week is not listed."""
    keys = sorted({str(r.period) for r in reading.rows if r.period is not None})
    approved = await uow.weeks.standing(keys)
    out = {key: APPROVED_WEEK for key in approved}
    cal, schedule = catalogue.calendar, catalogue.schedule
    for key in keys:
        if key in out or not is_closed(cal, schedule, Period.parse(key), now):
            continue
        if await uow.submissions.has_reports(key):
            out[key] = CLOSED_WEEK
    return out


# What `_carry_forward` and `review` read of a week this file brings: its period and values.
_NOBODY = Sender("", "", "")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _judge(
    catalogue: Catalogue,
    reading: SheetReading,
    row: SheetRow,
    existing: Submission | None,
    known: Mapping[str, Submission],
) -> RowPlan:
    unit, period = str(row.unit), Period.parse(str(row.period))
    history = [known[p] for p in sorted(known, reverse=True) if p < period.key][:HISTORY_WEEKS]
    values, carried = _carry_forward(catalogue, period, row.values, existing, history)
    letters = catalogue.with_quotas(period, {unit: values})[unit]
    verdict = review(values, catalogue, [h.values for h in history], letters)
    if not verdict.accepted:
        problems = tuple(f"{_where(catalogue, reading, row, e)}: {e}" for e in verdict.errors)
        return RowPlan(row, REFUSED, values, existing, problems=problems)
    notes = carried + verdict.confirmations + verdict.warnings
    if existing is not None and dict(existing.values) == values:
        return RowPlan(row, UNCHANGED, values, existing, notes=notes)
    changes: tuple[tuple[str, str, str], ...] = ()
    if existing is not None:
        old = existing.values
        changes = tuple(
            (f.code, _shown(old.get(f.code)), _shown(values.get(f.code)))
            for f in catalogue.fields
            if old.get(f.code) != values.get(f.code)
        )
    status = CHANGED if existing is not None else NEW
    return RowPlan(row, status, values, existing, changes, notes=notes)


def _shown(value: int | None) -> str:
    return "—" if value is None else format_int(value)


def _where(catalogue: Catalogue, reading: SheetReading, row: SheetRow, error: str) -> str:
    """The row and the columns of the fields an error names."""
    labels = catalogue.labels
    columns = [
        letter
        for code, letter in reading.columns.items()
        if code in labels and labels[code] in error
    ]
    return msg.import_row(row.number, sorted(columns, key=lambda c: (len(c), c)))


async def store(
    uow: UnitOfWork,
    catalogue: Catalogue,
    reading: SheetReading,
    plans: Sequence[RowPlan],
    by: Sender,
    now: datetime,
) -> None:
    """Store the new and changed rows as new versions (oldest week first) and audit each;
    the caller commits."""
    actor = f"{by.platform}:{by.user_id}"
    cal = catalogue.calendar
    for p in sorted((p for p in plans if p.stores), key=lambda p: str(p.row.period)):
        row = p.row
        unit, period = str(row.unit), str(row.period)
        sent = (
            row.sent_at.replace(tzinfo=cal.tz)
            if row.sent_at is not None
            else cal.due_at(Period.parse(period))
        )
        stored = await uow.submissions.add(
            Submission(
                unit=unit,
                period=period,
                version=0,
                values=dict(p.values),
                late=row.late,
                sent_at=sent,
                sender=by,
                chat=IMPORT_CHAT,
                raw_text=msg.import_source(reading.file_name, reading.sheet, row.number),
                warnings=p.notes,
            ),
            received_at=now,
            replacing=p.existing,
        )
        correction: dict[str, int] = {}
        if p.closed:
            found = await uow.corrections.add_approved(
                unit,
                period,
                p.values,
                by,
                IMPORT_CHAT,
                stored.raw_text,
                sent,
                now,
                old_values=p.existing.values if p.existing is not None else {},
                version=stored.version,
                warnings=p.notes,
            )
            correction = {"correction": found.id}
        await uow.audit.add(
            now,
            actor=actor,
            action="import.replace" if p.existing is not None else "import.create",
            unit=unit,
            period=period,
            detail={
                "version": stored.version,
                **correction,
                "source": IMPORT_CHAT,
                "file": reading.file_name,
                "sheet": reading.sheet,
                "row": row.number,
                "changes": [{"field": c, "old": o, "new": n} for c, o, n in p.changes],
            },
        )
    await uow.audit.add(
        now,
        actor=actor,
        action="import",
        detail={"file": reading.file_name, "sheet": reading.sheet, **counts(plans)},
    )


def counts(plans: Sequence[RowPlan]) -> dict[str, int]:
    return {s: sum(1 for p in plans if p.status == s) for s in (NEW, CHANGED, UNCHANGED, REFUSED)}


# In a chat, more new (or unchanged) rows of one week than this become one line.
COMPACT_OVER = 3


def preview_lines(
    catalogue: Catalogue,
    reading: SheetReading,
    plans: Sequence[RowPlan],
    compact: bool = False,
) -> list[str]:
    """The preview, one line per row (and one per changed figure). `compact` (a chat, read on
    a phone): a week's new rows, and its unchanged ones, without notes and more than
    `COMPACT_OVER` of them, are counted in one line; changed and refused rows are always
    listed. The CLI lists every row."""
    n = counts(plans)
    lines = [
        msg.import_preview_title(reading.file_name, reading.sheet),
        msg.import_counts(n[NEW], n[CHANGED], n[UNCHANGED], n[REFUSED]),
    ]
    closed = sorted({str(p.row.period) for p in plans if p.closed})
    if closed:
        labels_of = [Period.parse(key).label for key in closed]
        lines.append(msg.import_closed_weeks(sum(1 for p in plans if p.closed), labels_of))
    if reading.ignored_columns:
        lines.append(msg.import_ignored_columns(reading.ignored_columns))
    labels = catalogue.labels
    counted: dict[tuple[str, str, bool], int] = {}
    if compact:
        for p in plans:
            if p.status in (NEW, UNCHANGED) and not p.notes:
                key = (p.status, str(p.row.period), p.closed)
                counted[key] = counted.get(key, 0) + 1
        counted = {key: k for key, k in counted.items() if k > COMPACT_OVER}
    said: set[tuple[str, str, bool]] = set()
    for p in plans:
        row = p.row
        key = (p.status, str(row.period), p.closed)
        if key in counted and not p.notes:
            if key not in said:
                said.add(key)
                week = Period.parse(key[1]).label
                lines.append(msg.import_rows_counted(p.status == NEW, counted[key], week, p.closed))
            continue
        if p.status == REFUSED:
            lines += [msg.import_row_refused(problem) for problem in p.problems]
            continue
        name = catalogue.unit(str(row.unit)).name
        label = Period.parse(str(row.period)).label
        if p.status == NEW:
            lines.append(msg.import_row_new(row.number, name, label, p.closed))
        elif p.status == CHANGED:
            lines.append(msg.import_row_changed(row.number, name, label, p.closed))
            lines += ["   " + msg.change_line(labels[c], o, v) for c, o, v in p.changes]
        else:
            lines.append(msg.import_row_unchanged(row.number, name, label))
        if p.notes and p.status != UNCHANGED:
            lines.append(msg.import_row_notes(p.notes))
    return lines


# --- In a chat: an admin's .xlsx, held until /xacnhan ----------------------------------------


async def upload(req: Request) -> list[Reply]:
    """An admin sent a file (or typed /nhap): read it, preview it, hold it for /xacnhan."""
    attachment = req.message.attachment
    if attachment is None:
        return [reply(msg.IMPORT_HOW)]
    if not attachment.name.casefold().endswith(".xlsx"):
        return [reply(msg.IMPORT_NOT_XLSX)]
    limit_mb = MAX_IMPORT_BYTES // (1024 * 1024)
    if attachment.size > MAX_IMPORT_BYTES:
        return [reply(msg.import_too_large(limit_mb))]
    try:
        data = await attachment.read()
    except (OSError, TimeoutError, ValueError):
        return [reply(msg.IMPORT_FETCH_FAILED)]
    if len(data) > MAX_IMPORT_BYTES:
        return [reply(msg.import_too_large(limit_mb))]
    period = _period_in(req.args)
    try:
        reading = await asyncio.to_thread(read_file, data, req.catalogue, attachment.name, period)
    except ImportRefused as refused:
        return [reply(refused.text)]
    sender = req.actor.sender
    async with req.transaction() as uow:
        plans = await plan(uow, req.catalogue, reading, req.now())
        if any(p.stores for p in plans):
            await uow.imports.put(
                sender.platform, sender.user_id, attachment.name, reading.to_json(), req.now()
            )
            hint = msg.IMPORT_CONFIRM_HINT
        else:
            await uow.imports.delete(sender.platform, sender.user_id)
            hint = msg.IMPORT_NOTHING_TO_STORE
        preview = _text_reply([*preview_lines(req.catalogue, reading, plans, compact=True), hint])
        return await req.commit_answer(uow, [preview])


def _period_in(text: str) -> Period | None:
    for word in text.split():
        try:
            return Period.parse(word)
        except ValueError:
            continue
    return None


async def confirm(req: Request) -> list[Reply] | None:
    """/xacnhan of an admin with an import waiting: check it again and store it. None when
    the admin has none (the held report, if any, is confirmed instead)."""
    sender = req.actor.sender
    async with req.transaction() as uow:
        pending = await uow.imports.get(sender.platform, sender.user_id, _EPOCH)
        if pending is None:
            return None
        if pending.created_at < req.now() - IMPORT_TTL:
            await uow.imports.delete(sender.platform, sender.user_id)
            return await req.commit_answer(uow, [reply(msg.IMPORT_EXPIRED)])
        reading = SheetReading.from_json(pending.reading)
        plans = await plan(uow, req.catalogue, reading, req.now())
        await store(uow, req.catalogue, reading, plans, sender, req.now())
        await uow.imports.delete(sender.platform, sender.user_id)
        n = counts(plans)
        answer = [reply(msg.import_stored(n[NEW], n[CHANGED], n[UNCHANGED], n[REFUSED]))]
        return await req.commit_answer(uow, answer)


async def cancel(req: Request) -> list[Reply] | None:
    """/huy of an admin with an import waiting (expired ones too): drop it."""
    sender = req.actor.sender
    async with req.transaction() as uow:
        dropped = await uow.imports.delete(sender.platform, sender.user_id)
        if not dropped:
            return None
        return await req.commit_answer(uow, [reply(msg.IMPORT_CANCELLED)])


def _text_reply(lines: Sequence[str]) -> Reply:
    return Reply((Text.of("\n".join(lines)),))


async def _both_held(req: Request) -> tuple[PendingImport | None, PendingReport | None]:
    """An admin's waiting import and held report (a read that records nothing: the command
    that follows records the message)."""
    sender = req.actor.sender
    async with req.db.unit_of_work() as uow:
        waiting = await uow.imports.get(sender.platform, sender.user_id, _EPOCH)
        held = await uow.pending.get(sender.platform, sender.user_id)
    return waiting, held


def _report_first(waiting: PendingImport | None, held: PendingReport | None) -> bool:
    """Whether /xacnhan and /huy answer the held report rather than the import: the one the
    admin was asked about last (the import when it cannot be told)."""
    if waiting is None:
        return True
    if held is None or held.held_at is None:
        return False
    return held.held_at > waiting.created_at


def _held_label(req: Request, held: PendingReport) -> tuple[str, str]:
    cat = req.catalogue
    unit = cat.unit(held.unit).name if cat.has_unit(held.unit) else held.unit
    return unit, Period.parse(held.period).label


async def confirm_held(req: Request) -> list[Reply]:
    """/xacnhan: of an admin's waiting import and held report, the newer one; the other
    stays and is named."""
    if not req.actor.is_admin:
        return await reports.confirm(req)
    waiting, held = await _both_held(req)
    if _report_first(waiting, held):
        answer = await reports.confirm(req)
        if waiting is not None and waiting.created_at >= req.now() - IMPORT_TTL:
            answer.append(reply(msg.import_still_waiting(waiting.file_name)))
        return answer
    done = await confirm(req)
    if done is None:  # dropped meanwhile
        return await reports.confirm(req)
    if held is not None:
        done.append(reply(msg.report_still_held(*_held_label(req, held))))
    return done


async def cancel_held(req: Request) -> list[Reply]:
    """/huy: of an admin's waiting import and held report, the newer one (as /xacnhan)."""
    if not req.actor.is_admin:
        return await reports.cancel(req)
    waiting, held = await _both_held(req)
    if _report_first(waiting, held):
        answer = await reports.cancel(req)
        if waiting is not None and waiting.created_at >= req.now() - IMPORT_TTL:
            answer.append(reply(msg.import_still_waiting(waiting.file_name)))
        return answer
    done = await cancel(req)
    if done is None:
        return await reports.cancel(req)
    if held is not None:
        done.append(reply(msg.report_still_held(*_held_label(req, held))))
    return done
