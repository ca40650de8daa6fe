"""Reading an .xlsx file's cells (openpyxl): bytes in, `core.importing.Sheet`s out.

Values as Excel stored them (numbers, texts, dates), never formulas: a cell with a formula is
read as the value Excel last computed (`data_only`), as the office saw it.
"""

from __future__ import annotations

import io
import zipfile

from core.importing import Cell, Sheet

# A sheet is read up to this many rows and columns: the office's tables are a few hundred
# units wide at most, and a crafted file must not make the bot read millions of empty cells.
MAX_ROWS = 5000
MAX_COLUMNS = 200


class UnreadableFile(Exception):
    """Not an .xlsx workbook openpyxl can open."""


def read_xlsx(data: bytes) -> list[Sheet]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise UnreadableFile(str(exc)) from exc
    try:
        sheets = []
        for ws in wb.worksheets:
            rows: list[tuple[Cell, ...]] = []
            for row in ws.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True):
                cells = [_cell(v) for v in row]
                while cells and cells[-1] is None:  # openpyxl pads rows to max_col
                    cells.pop()
                rows.append(tuple(cells))
            sheets.append(Sheet(ws.title, tuple(rows)))
        return sheets
    except (KeyError, ValueError, TypeError) as exc:
        raise UnreadableFile(str(exc)) from exc
    finally:
        wb.close()


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    from datetime import date, datetime, time

    if isinstance(value, datetime | date):
        return value
    if isinstance(value, time):
        return str(value)
    return str(value)
