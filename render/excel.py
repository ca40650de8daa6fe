"""The weekly workbook (openpyxl) and CSV: one sheet per indicator laid out like the official
tables, the raw values of every current report, and the version history."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from core import messages as msg
from core.catalogue import Catalogue
from core.numbers import format_goal_pct, format_int
from core.ranking import Ranking
from core.submission import Submission
from core.summary import PeriodSummary
from core.tiers import Band, shown_band
from render import texts
from render.report import Cell, Column, WeeklyReport, cells, columns, sections, total_cells

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

# Excel number formats; Excel shows them with the reader's separators (12.446 and 92,86% on a
# Vietnamese system). Rates are stored already rounded half up, so every reader sees the
# letter's digits.
INT_FORMAT = "#,##0"
DATE_FORMAT = "dd/mm/yyyy hh:mm"
HEADER_FILL = "DCE6F0"
SECTION_FILL = "F2F2F2"
# An indicator with tiers: its rate cell takes a light shade of its band's colour.
BAND_FILLS = {Band.MET: "D4EFE4", Band.WARNING: "FCEBC0", Band.CRITICAL: "F6D2CF"}
MAX_WIDTH = 48


def rate_format(decimals: int) -> str:
    return "0%" if decimals == 0 else "0." + "0" * decimals + "%"


def change_format(decimals: int) -> str:
    body = "0" if decimals == 0 else "0." + "0" * decimals
    return f"+{body};-{body};{body}"


def sheet_title(text: str, taken: set[str]) -> str:
    """Excel forbids []:*?/\\ and more than 31 characters; titles must be unique."""
    base = re.sub(r"[\[\]:*?/\\]", "-", text)[:31] or "Sheet"
    title, n = base, 2
    while title.casefold() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.casefold())
    return title


# A cell whose text starts with one of these is taken for a formula by spreadsheet programs
# (OWASP "CSV injection"): `=HYPERLINK(…)` in a registrant's display name would become a live
# link in the leaders' workbook.
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text for a CSV cell: one that a spreadsheet would read as a formula gets a leading
    apostrophe, which spreadsheets show as the start of a text."""
    return "'" + text if text.startswith(FORMULA_LEAD) else text


def _as_text(ws: Worksheet) -> None:
    """Every text cell of the sheet is stored as text, never as a formula (the workbook has no
    formulas of its own); one that a person editing it would turn into a formula is marked
    with Excel's quote prefix, which keeps it text without showing an apostrophe."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value.startswith(FORMULA_LEAD):
                    cell.quotePrefix = True


def _value(column: Column, value: Cell) -> int | float | None:
    if value is None:
        return None
    if column.kind == "int":
        return int(value)
    # Rates are percent in the domain and fractions in Excel's `0.00%`.
    return float(Decimal(value) / 100) if column.kind == "rate" else float(value)


def _format(column: Column) -> str:
    if column.kind == "int":
        return INT_FORMAT
    if column.kind == "rate":
        return rate_format(column.decimals)
    return change_format(column.decimals)


def workbook_bytes(report: WeeklyReport) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    taken: set[str] = set()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for ranking in report.rankings:
        ws = wb.create_sheet(sheet_title(ranking.indicator.short, taken))
        _ranking_sheet(ws, report.catalogue, report.period.label, ranking, approval=report.approval)
    _raw_sheet(wb.create_sheet(sheet_title(texts.XLSX_RAW_SHEET, taken)), report, report.reports)
    history = wb.create_sheet(sheet_title(texts.XLSX_HISTORY_SHEET, taken))
    _raw_sheet(history, report, report.versions, versions=True)
    for ws in wb.worksheets:
        _as_text(ws)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _ranking_sheet(
    ws: Worksheet,
    cat: Catalogue,
    label: str,
    ranking: Ranking,
    change: str = texts.COL_CHANGE_FULL,
    approval: str = "",
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    ind = ranking.indicator
    cols = columns(cat, ranking, change)
    width = 2 + len(cols)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    goal = texts.chart_goal(_target(ranking), ind.deadline)
    ws.append([ind.name])
    subtitle = f"{msg.capital(label)} · {cat.title}" + (f" · {goal}" if goal else "")
    ws.append([subtitle + (f" · {approval}" if approval else "")])
    ws["A1"].font = Font(bold=True, size=13)
    # Two header rows: the group a column belongs to, then the column itself.
    ws.append(["", "", *(c.group for c in cols)])
    ws.append([msg.COL_NO, msg.COL_UNIT, *(c.header for c in cols)])
    header_rows = (3, 4)
    if not any(c.group for c in cols):
        ws.delete_rows(3)
        header_rows = (3, 3)
    else:
        start = 3
        while start <= width:
            group = cols[start - 3].group
            end = start
            while end + 1 <= width and cols[end - 2].group == group:
                end += 1
            if group and end > start:
                ws.merge_cells(start_row=3, start_column=start, end_row=3, end_column=end)
            start = end + 1
        # TT, Đơn vị and columns outside any group span both header rows.
        for col in range(1, width + 1):
            if col <= 2 or not cols[col - 3].group:
                ws.cell(3, col).value, ws.cell(4, col).value = ws.cell(4, col).value, None
                ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
    for r in range(header_rows[0], header_rows[1] + 1):
        ws.row_dimensions[r].height = 20 if r < header_rows[1] else 48
        for col in range(1, width + 1):
            cell = ws.cell(r, col)
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = f"C{header_rows[1] + 1}"
    for title, rows in sections(ranking):
        ws.append([title])
        r = ws.max_row
        ws.cell(r, 1).font = bold
        for col in range(1, width + 1):
            ws.cell(r, col).fill = PatternFill("solid", fgColor=SECTION_FILL)
        for n, row in enumerate(rows, start=1):
            values = cells(ranking, row)
            ws.append(
                [n, row.unit.name, *(_value(c, v) for c, v in zip(cols, values, strict=True))]
            )
            _number_formats(ws, ws.max_row, cols)
            if ind.tiers is not None:
                band = shown_band(ind.tiers, row.ratio)
                shade = PatternFill("solid", fgColor=BAND_FILLS[band])
                ws.cell(ws.max_row, 3 + _rate_column(cols)).fill = shade
    totals = total_cells(ranking)
    if totals:
        ws.append(
            ["", texts.COL_GROUP_TOTAL, *(_value(c, v) for c, v in zip(cols, totals, strict=True))]
        )
        _number_formats(ws, ws.max_row, cols)
        for col in range(1, width + 1):
            ws.cell(ws.max_row, col).font = bold
    if ranking.missing:
        ws.append([msg.no_figures([u.name for u in ranking.missing])])
    _fit(ws, header_rows[0])


def _rate_column(cols: Sequence[Column]) -> int:
    """The indicator's own rate among `cols` (its group comes first)."""
    return next(i for i, c in enumerate(cols) if c.kind == "rate")


def _target(ranking: Ranking) -> str:
    return format_goal_pct(ranking.indicator.target)


def _number_formats(ws: Worksheet, row: int, cols: Sequence[Column]) -> None:
    for i, column in enumerate(cols, start=3):
        ws.cell(row, i).number_format = _format(column)


def _raw_sheet(
    ws: Worksheet, report: WeeklyReport, subs: Sequence[Submission], versions: bool = False
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    cat = report.catalogue
    fields = cat.fields
    head = [msg.COL_UNIT, texts.COL_PERIOD]
    if versions:
        head += [texts.COL_VERSION, texts.COL_CURRENT]
    head += [texts.COL_SENT_AT, texts.COL_SENDER, texts.COL_LATE]
    head += [f.label for f in fields]
    if versions:
        head += [texts.COL_WARNINGS, texts.COL_CORRECTION]
    ws.append(head)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = "B2"
    tz = cat.calendar.tz
    for s in subs:
        name = cat.unit(s.unit).name if cat.has_unit(s.unit) else s.unit
        # Excel has no time zones: the local wall-clock time of the office.
        sent = s.sent_at.astimezone(tz).replace(tzinfo=None)
        row: list[object] = [name, s.period]
        if versions:
            row += [s.version, texts.YES if s.current else ""]
        row += [sent, s.sender.name, texts.YES if s.late else ""]
        row += [s.values.get(f.code) for f in fields]
        if versions:
            row += ["; ".join(s.warnings), report.marks.get((s.unit, s.version), "")]
        ws.append(row)
        r = ws.max_row
        first_field = len(row) - len(fields) - (2 if versions else 0) + 1
        ws.cell(r, head.index(texts.COL_SENT_AT) + 1).number_format = DATE_FORMAT
        for col in range(first_field, first_field + len(fields)):
            ws.cell(r, col).number_format = INT_FORMAT
    _fit(ws, 1)


def _fit(ws: Worksheet, header_row: int) -> None:
    """Column widths from the longest shown text; long headers wrap instead of widening."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=header_row):
        for cell in row:
            if cell.value is None or type(cell).__name__ == "MergedCell":
                continue
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                length = len(f"{cell.value:,.2f}") + 1
            elif cell.row <= header_row + 1 and isinstance(cell.value, str):
                length = min(len(cell.value), 18)
            else:
                length = len(str(cell.value))
            if isinstance(cell.value, str) and cell.column == 1 and len(cell.value) > 12:
                continue  # section titles and notes run across the row
            widths[cell.column] = max(widths.get(cell.column, 0), length)
    for column, length in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = min(length + 2, MAX_WIDTH)
    ws.column_dimensions["A"].width = 5


# --- CSV ------------------------------------------------------------------------------------

# Opened by Excel on Vietnamese Windows, whose decimal mark is the comma and whose list
# separator is therefore the semicolon: with these the file opens in columns, numbers as
# numbers. The indicator's code stays as the first column for scripts.
CSV_HEADER = (
    "Mã chỉ tiêu",
    "Chỉ tiêu",
    "Nhóm",
    "TT",
    "Đơn vị",
    "Đạt",
    "Tổng",
    "Tỉ lệ (%)",
    "Đạt chỉ tiêu",
    "Thay đổi (điểm %)",
)
CSV_DELIMITER = ";"
CSV_YES = "có"
CSV_NO = "không"


def csv_decimal(value: Decimal | None) -> str:
    """A decimal as Vietnamese Excel reads a number: comma for the decimal mark."""
    return "" if value is None else str(value).replace(".", ",")


def csv_bytes(report: WeeklyReport) -> bytes:
    """Every ranked row, UTF-8 with a BOM so Excel shows the diacritics."""
    return rankings_csv(report.rankings)


def rankings_csv(rankings: Sequence[Ranking]) -> bytes:
    """The rows of `rankings` (a week's, or a month's at its end with the change over it)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for ranking in rankings:
        ind = ranking.indicator
        for title, rows in sections(ranking):
            for n, row in enumerate(rows, start=1):
                met = "" if row.met is None else CSV_YES if row.met else CSV_NO
                writer.writerow(
                    (
                        ind.code,
                        csv_text(ind.short),
                        csv_text(title),
                        n,
                        csv_text(row.unit.name),
                        row.ratio.numerator,
                        row.ratio.denominator,
                        csv_decimal(row.ratio.rate),
                        met,
                        csv_decimal(row.change),
                    )
                )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- the month's, quarter's or year's workbook ----------------------------------------------


def period_workbook_bytes(summary: PeriodSummary) -> bytes:
    """One sheet per indicator at the period's end (with the change over it), the milestones
    dated in it, who reported late or not at all, and each unit's figures at the end."""
    from openpyxl import Workbook

    cat = summary.catalogue
    label = summary.period.label
    wb = Workbook()
    taken: set[str] = set()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for ranking in summary.rankings:
        ws = wb.create_sheet(sheet_title(ranking.indicator.short, taken))
        _ranking_sheet(ws, cat, label, ranking, texts.COL_CHANGE_PERIOD)
    _milestone_sheet(wb.create_sheet(sheet_title(texts.XLSX_MILESTONE_SHEET, taken)), summary)
    _lateness_sheet(wb.create_sheet(sheet_title(texts.XLSX_LATENESS_SHEET, taken)), summary)
    _end_sheet(wb.create_sheet(sheet_title(texts.XLSX_END_SHEET, taken)), summary)
    for ws in wb.worksheets:
        _as_text(ws)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _head(ws: Worksheet, head: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    ws.append(list(head))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = f"A{ws.max_row + 1}"


def _milestone_sheet(ws: Worksheet, summary: PeriodSummary) -> None:
    """One row per milestone and unit (and the area's), met or not."""
    cat = summary.catalogue
    _head(
        ws,
        [
            texts.COL_INDICATOR,
            texts.COL_MILESTONE,
            texts.COL_MILESTONE_DATE,
            msg.COL_UNIT,
            texts.COL_RESULT,
        ],
    )
    for ranking in summary.rankings:
        for result in summary.milestones.get(ranking.indicator.code, ()):
            m = result.milestone
            goal = format_int(m.count) if m.count is not None else format_goal_pct(m.rate)
            lead = [ranking.indicator.short, goal, m.on]
            if result.area is not None:
                ws.append([*lead, msg.capital(cat.scope), _met(result.area.reached)])
            for unit in result.met:
                ws.append([*lead, unit.name, texts.MET])
            for unit in result.missed:
                ws.append([*lead, unit.name, texts.NOT_MET])
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].number_format = "dd/mm/yyyy"
    _fit(ws, 1)


def _met(reached: bool) -> str:
    return texts.MET if reached else texts.NOT_MET


def _lateness_sheet(ws: Worksheet, summary: PeriodSummary) -> None:
    _head(
        ws,
        [
            msg.COL_UNIT,
            texts.COL_LATE_WEEKS,
            texts.COL_LATE_LIST,
            texts.COL_MISSING_WEEKS,
            texts.COL_MISSING_LIST,
        ],
    )
    for x in summary.lateness:
        ws.append(
            [
                x.unit.name,
                len(x.late),
                ", ".join(p.label for p in x.late),
                len(x.missing),
                ", ".join(p.label for p in x.missing),
            ]
        )
    _fit(ws, 1)


def _end_sheet(ws: Worksheet, summary: PeriodSummary) -> None:
    """Each unit's figures at the period's end and the week they were reported for."""
    cat = summary.catalogue
    fields = cat.fields
    _head(ws, [msg.COL_UNIT, texts.COL_PERIOD, *(f.label for f in fields)])
    for unit in cat.units:
        values = summary.end.get(unit.code)
        if values is None:
            continue
        week = summary.source.get(unit.code)
        ws.append([unit.name, week.key if week else "", *(values.get(f.code) for f in fields)])
        for col in range(3, 3 + len(fields)):
            ws.cell(ws.max_row, col).number_format = INT_FORMAT
    _fit(ws, 1)
