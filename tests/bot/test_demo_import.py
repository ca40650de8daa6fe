"""The demo's past weeks: the committed workbook is what `tests/bot/demo_past_weeks.py`
generates from the golden data, and every row of it passes the import's checks."""

from __future__ import annotations

from render.sheets import read_xlsx
from tests.bot.demo_past_weeks import OUT, rows


def test_the_committed_workbook_is_the_generated_one() -> None:
    (sheet,) = read_xlsx(OUT.read_bytes())
    expected = [list(r) for r in rows()]
    for row in expected:  # a sheet's row ends at its last filled cell
        while row and row[-1] is None:
            row.pop()
    assert [list(r) for r in sheet.rows] == expected
