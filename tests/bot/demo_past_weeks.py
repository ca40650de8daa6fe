"""The demo's past weeks (`bot/scenarios/demo_past_weeks.xlsx`), generated from the golden data:
weeks 43-45 of every unit the demo's week 46 reports, each figure stepping back from week 46
by that unit's own weekly step (the letter's figure, tests/data, minus week 46's), so the
imported history grows the way the demo's two weeks do and no check fires on week 46.

Regenerate (only when the golden data or the demo's week 46 change):
`.venv/bin/python -m tests.bot.demo_past_weeks`.
"""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

from core.catalogue import Catalogue, build_catalogue
from core.report import REPORT_HEAD, parse_report
from tests.handlers.test_handlers_golden import _reports

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "bot" / "scenarios" / "demo_week.jsonl"
OUT = ROOT / "bot" / "scenarios" / "demo_past_weeks.xlsx"
WEEKS = (43, 44, 45)
WEEK_46_DAY = "2024-11-11"


def catalogue() -> Catalogue:
    config = ROOT / "config" / "binh_son.toml"
    return build_catalogue(tomllib.loads(config.read_text(encoding="utf-8")))


def week_46(cat: Catalogue) -> dict[str, dict[str, int]]:
    """The week-46 reports the demo's admin sends, unit code -> values, in the file's order."""
    out: dict[str, dict[str, int]] = {}
    for raw in SCENARIO.read_text(encoding="utf-8").splitlines():
        item = json.loads(raw)
        at, text = str(item.get("at", "")), str(item.get("text", ""))
        if not at.startswith(WEEK_46_DAY) or not REPORT_HEAD.match(text):
            continue
        parsed = parse_report(REPORT_HEAD.sub("", text), cat)
        unit = cat.match_unit(str(parsed.unit_text)).unit
        assert unit is not None
        out[unit.code] = dict(parsed.values)
    return out


def rows() -> list[list[object]]:
    cat = catalogue()
    golden = {
        cat.match_unit(name).unit.code: {cat.field_for_label(k): v for k, v in values.items()}  # type: ignore[union-attr]
        for name, values in _reports().items()
    }
    recent = week_46(cat)
    fields = [f for f in cat.fields if any(f.code in v for v in recent.values())]
    out: list[list[object]] = [["Đơn vị", "Tuần", *(f.label for f in fields)]]
    for week in WEEKS:
        for code, values in recent.items():
            row: list[object] = [cat.unit(code).name, f"2024-W{week}"]
            for f in fields:
                now = values.get(f.code)
                if now is None:
                    row.append(None)
                    continue
                step = max(golden.get(code, {}).get(f.code, now) - now, 0)
                row.append(now - (46 - week) * step)
            out.append(row)
    return out


def workbook() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tuần 43-45 năm 2024"
    for row in rows():
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(workbook())
    print(OUT)
