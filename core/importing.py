"""Reading the office's own spreadsheets: a grid of cells into one row per unit and week.

Two layouts are read the same way: the bot's own workbook (`/xuat xlsx`, its "Số liệu gốc"
sheet: `Đơn vị`, `Tuần`, …, one column per field label) and a plain sheet with a header row of
field labels and one row per unit. Header cells are matched like report labels
(`Catalogue.field_for_label`), unit names like a report's (`Catalogue.match_unit`), counts like
typed ones (`parse_count`). Every problem names its row and column. Reading the file's bytes
is the caller's (`render.sheets`); checking the figures against what is stored is
`handlers.imports`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core import messages as msg
from core.catalogue import Catalogue
from core.numbers import NumberError, parse_count
from core.periods import Period
from core.report import PERIOD_LABELS, UNIT_LABELS, header_week, number_text
from core.text import clean, label_key

Cell = str | int | float | bool | datetime | date | None

# How far down a sheet its header row is looked for (titles and notes come first).
HEADER_SEARCH_ROWS = 12
# A row whose unit cell says one of these is a total, not a unit.
TOTAL_LABELS = frozenset({"tong", "tong chung", "tong cong", "cong", "tong so", "total"})
LATE_LABELS = frozenset({"tre han", "tre", "late"})
SENT_LABELS = frozenset({"thoi diem gui", "ngay gui", "sent at"})
# The bot's version history sheet holds every version, not the week's figures.
VERSION_LABELS = frozenset({"phien ban", "version"})
YES_WORDS = frozenset({"co", "x", "yes", "1", "true"})


@dataclass(frozen=True)
class Sheet:
    title: str
    rows: tuple[tuple[Cell, ...], ...]


class ImportRefused(Exception):
    """The file as a whole cannot be read (no table, no week): nothing is previewed."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class SheetRow:
    """One data row of the sheet: its unit, week and figures, or the problems that refuse it."""

    number: int  # the sheet's own row number, 1-based, as the office sees it
    unit: str | None  # unit code
    period: str | None  # period key
    values: Mapping[str, int]
    late: bool = False
    sent_at: datetime | None = None  # naive, the office's wall clock (Excel has no time zones)
    problems: tuple[str, ...] = ()
    unit_text: str = ""


@dataclass(frozen=True)
class SheetReading:
    file_name: str
    sheet: str
    rows: tuple[SheetRow, ...]
    columns: Mapping[str, str] = field(default_factory=dict)  # field code -> column letter
    ignored_columns: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "sheet": self.sheet,
            "columns": dict(self.columns),
            "ignored_columns": list(self.ignored_columns),
            "rows": [
                {
                    "number": r.number,
                    "unit": r.unit,
                    "period": r.period,
                    "values": dict(r.values),
                    "late": r.late,
                    "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                    "problems": list(r.problems),
                    "unit_text": r.unit_text,
                }
                for r in self.rows
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SheetReading:
        rows = tuple(
            SheetRow(
                number=int(r["number"]),
                unit=r["unit"],
                period=r["period"],
                values={k: int(v) for k, v in r["values"].items()},
                late=bool(r["late"]),
                sent_at=datetime.fromisoformat(r["sent_at"]) if r["sent_at"] else None,
                problems=tuple(r["problems"]),
                unit_text=r.get("unit_text", ""),
            )
            for r in data["rows"]
        )
        return cls(
            file_name=data["file_name"],
            sheet=data["sheet"],
            rows=rows,
            columns=dict(data["columns"]),
            ignored_columns=tuple(data["ignored_columns"]),
        )


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column as the spreadsheet names it."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class _Header:
    row: int  # index in the sheet's rows
    unit: int
    period: int | None
    late: int | None
    sent: int | None
    fields: dict[int, str]  # column index -> field code
    ignored: tuple[str, ...]
    versions: bool


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return clean(str(cell))


def _field_of(text: str, catalogue: Catalogue) -> str | None:
    code = catalogue.field_for_label(text)
    if code is None and "(" in text:
        code = catalogue.field_for_label(text.split("(", 1)[0])
    return code


def _header(sheet: Sheet, catalogue: Catalogue) -> _Header | None:
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        texts = [_text(c) for c in row]
        keys = [label_key(t) for t in texts]
        units = [i for i, k in enumerate(keys) if k in UNIT_LABELS]
        fields = {i: c for i, t in enumerate(texts) if t and (c := _field_of(t, catalogue))}
        if not units or not fields:
            continue
        if len(set(fields.values())) < len(fields):
            seen: dict[str, int] = {}
            for i, code in fields.items():
                if code in seen:
                    raise ImportRefused(
                        msg.import_duplicate_column(
                            catalogue.field(code).label,
                            column_letter(seen[code]),
                            column_letter(i),
                            index + 1,
                        )
                    )
                seen[code] = i
        known = {units[0], *fields}

        def first(labels: frozenset[str], keys: list[str] = keys) -> int | None:
            return next((i for i, k in enumerate(keys) if k in labels), None)

        period, late, sent = first(PERIOD_LABELS), first(LATE_LABELS), first(SENT_LABELS)
        known |= {i for i in (period, late, sent) if i is not None}
        ignored = tuple(
            f"{column_letter(i)} ({t})" for i, t in enumerate(texts) if t and i not in known
        )
        versions = first(VERSION_LABELS) is not None
        return _Header(index, units[0], period, late, sent, fields, ignored, versions)
    return None


def _sheet_period(sheet: Sheet, header: _Header) -> Period | None:
    """A week the sheet names in its title or in a line above its header (`Tuần 46/2024`)."""
    for text in [sheet.title, *(_text(c) for row in sheet.rows[: header.row] for c in row)]:
        if not text:
            continue
        found = header_week(text)
        if found is not None and found[1] is not None:
            return Period(found[1], found[0])
        for word in text.replace("·", " ").split():
            try:
                return Period.parse(word)
            except ValueError:
                continue
    return None


def read_sheets(
    sheets: Sequence[Sheet], catalogue: Catalogue, file_name: str, period: Period | None = None
) -> SheetReading:
    """The table of the workbook: the sheet whose header row names a unit column and the most
    field columns (the bot's workbook: its "Số liệu gốc" sheet; never the version history).
    `period` is the administrator's `--period`: rows naming another week are refused."""
    found = [(s, h) for s in sheets if (h := _header(s, catalogue)) is not None]
    found = [(s, h) for s, h in found if not h.versions] or []
    if not found:
        raise ImportRefused(msg.import_no_table(catalogue.fields[0].label))
    sheet, header = max(found, key=lambda pair: len(pair[1].fields))
    default = period or _sheet_period(sheet, header)
    if header.period is None and default is None:
        raise ImportRefused(msg.IMPORT_NO_PERIOD)
    columns = {code: column_letter(i) for i, code in header.fields.items()}
    rows: list[SheetRow] = []
    seen: dict[tuple[str, str], int] = {}
    for index in range(header.row + 1, len(sheet.rows)):
        row = sheet.rows[index]
        number = index + 1
        parsed = _row(row, number, header, catalogue, period, default)
        if parsed is None:
            continue
        if parsed.unit is not None and parsed.period is not None and not parsed.problems:
            key = (parsed.unit, parsed.period)
            if key in seen:
                where = msg.import_cell(number, column_letter(header.unit), msg.COL_UNIT)
                parsed = SheetRow(
                    number,
                    parsed.unit,
                    parsed.period,
                    parsed.values,
                    problems=(f"{where}: {msg.import_duplicate_row(seen[key])}",),
                    unit_text=parsed.unit_text,
                )
            else:
                seen[key] = number
        rows.append(parsed)
    return SheetReading(file_name, sheet.title, tuple(rows), columns, header.ignored)


def _cell(row: tuple[Cell, ...], index: int | None) -> Cell:
    if index is None or index >= len(row):
        return None
    return row[index]


def _row(
    row: tuple[Cell, ...],
    number: int,
    header: _Header,
    catalogue: Catalogue,
    period: Period | None,
    default: Period | None,
) -> SheetRow | None:
    unit_text = _text(_cell(row, header.unit))
    given = {i: _cell(row, i) for i in header.fields}
    if not unit_text and all(_text(v) == "" for v in given.values()):
        return None  # an empty line, a note under the table
    if label_key(unit_text) in TOTAL_LABELS:
        return None
    problems: list[str] = []

    def where(index: int, label: str) -> str:
        return msg.import_cell(number, column_letter(index), label)

    unit: str | None = None
    if not unit_text:
        problems.append(f"{where(header.unit, msg.COL_UNIT)}: {msg.IMPORT_NO_UNIT}")
    else:
        match = catalogue.match_unit(unit_text)
        if match.unit is not None:
            unit = match.unit.code
        elif match.candidates:
            names = [u.name for u in match.candidates]
            problems.append(
                f"{where(header.unit, msg.COL_UNIT)}: {msg.unit_ambiguous(unit_text, names)}"
            )
        else:
            problems.append(
                f"{where(header.unit, msg.COL_UNIT)}: {msg.unit_unknown(unit_text, [])}"
            )
    week = default
    if header.period is not None:
        text = _text(_cell(row, header.period))
        if text:
            try:
                week = Period.parse(text)
            except ValueError:
                week = None
                problems.append(f"{where(header.period, 'Tuần')}: {msg.period_unknown(text)}")
            else:
                if period is not None and week != period:
                    problems.append(
                        f"{where(header.period, 'Tuần')}: "
                        f"{msg.import_other_period(week.label, period.label)}"
                    )
        elif week is None:
            problems.append(f"{where(header.period, 'Tuần')}: {msg.IMPORT_NO_PERIOD}")
    values: dict[str, int] = {}
    for index, code in header.fields.items():
        label = catalogue.field(code).label
        try:
            value = _count(given[index])
        except NumberError as exc:
            problems.append(f"{where(index, label)}: {exc.reason}")
            continue
        if value is not None:
            values[code] = value
    late = label_key(_text(_cell(row, header.late))) in YES_WORDS
    sent = _cell(row, header.sent)
    return SheetRow(
        number,
        unit,
        week.key if week is not None else None,
        values,
        late,
        sent if isinstance(sent, datetime) else None,
        tuple(problems),
        unit_text,
    )


def _count(cell: Cell) -> int | None:
    """A count cell: a number Excel stored, or a text typed like a chat report's value."""
    if cell is None or (isinstance(cell, str) and not clean(cell)):
        return None
    if isinstance(cell, bool | datetime | date):
        raise NumberError(msg.IMPORT_NOT_A_COUNT)
    if isinstance(cell, float):
        if not cell.is_integer():
            raise NumberError(msg.IMPORT_NOT_A_COUNT)
        cell = int(cell)
    if isinstance(cell, int):
        return parse_count(str(cell))
    return parse_count(number_text(cell))
