"""The draft weekly report (python-docx), headed like the standing office's letters: the
period, who reported, and for each indicator the ranked table split met / not met with the
units the current pace leaves short of the deadline."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from core import messages as msg
from core.catalogue import Catalogue
from core.numbers import format_goal_pct, format_int, format_pct, round_half_up
from core.periods import Period
from core.ranking import Ranking, Row, total_ratio
from core.summary import MilestoneResult, PeriodSummary
from render import texts
from render.report import (
    Column,
    WeeklyReport,
    cell_text,
    cells,
    columns,
    sections,
    total_cells,
)

if TYPE_CHECKING:
    from docx.document import Document as DocumentObject
    from docx.table import Table, _Cell

FONT = "Times New Roman"  # the font of Vietnamese administrative documents
SIZE = 13


def docx_bytes(report: WeeklyReport, today: date) -> bytes:
    doc = _document()
    _letterhead(doc, report.catalogue, today)
    _title(doc, report)
    _status(doc, report)
    _results(doc, report)
    _closing(doc)
    return _saved(doc)


def _saved(doc: DocumentObject) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _document() -> DocumentObject:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    # A4 landscape: the ranked tables of the letters are wide.
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin = section.bottom_margin = Cm(1.8)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(SIZE)
    return doc


def _para(
    doc: DocumentObject,
    text: str = "",
    bold: bool = False,
    italic: bool = False,
    align: str = "justify",
    size: float = SIZE,
) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    p.paragraph_format.space_after = Pt(4)
    run = p.add_run(text)
    run.bold, run.italic = bold, italic
    run.font.size = Pt(size)


def _letterhead(doc: DocumentObject, cat: Catalogue, today: date) -> None:
    """Left: the issuing office and the number; right: the national motto, place and date."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    office = [part.strip().upper() for part in cat.office.replace("–", "-").split(" - ")]
    place = cat.district or cat.province
    left = [(line, i == len(office) - 1, False) for i, line in enumerate(office)]
    left.append((texts.DOCX_NUMBER, False, False))
    right = [
        (texts.DOCX_NATION, True, False),
        (texts.DOCX_MOTTO, True, False),
        (texts.docx_place_date(place, today), False, True),
    ]
    table = doc.add_table(rows=1, cols=2)
    for cell, lines in zip(table.rows[0].cells, (left, right), strict=True):
        cell.paragraphs[0].text = ""
        for n, (text, bold, italic) in enumerate(lines):
            p = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.space_after = Pt(0)
            run = p.add_run(text)
            run.bold, run.italic = bold, italic
            run.font.size = Pt(12)


def _title(doc: DocumentObject, report: WeeklyReport) -> None:
    _para(doc)
    _para(doc, texts.DOCX_KIND, bold=True, align="center", size=14)
    _para(doc, texts.docx_subject(report.period.label, report.due), bold=True, align="center")
    _para(doc, texts.DOCX_DRAFT, italic=True, align="center", size=11)
    if report.approval:
        _para(doc, report.approval, bold=True, align="center", size=12)
    _para(doc, texts.docx_to(report.catalogue.title), align="center")
    _para(doc, texts.docx_intro(report.catalogue.office, report.period.label))


def _status(doc: DocumentObject, report: WeeklyReport) -> None:
    cat = report.catalogue
    units = cat.active_units
    by_unit = {s.unit: s for s in report.reports}
    late = [u.name for u in units if u.code in by_unit and by_unit[u.code].late]
    missing = [u.name for u in units if u.code not in by_unit]
    on_time = len(units) - len(late) - len(missing)
    _para(doc, texts.DOCX_PART_STATUS, bold=True)
    _para(doc, texts.docx_completeness(on_time, len(late), len(missing), len(units)))
    if late:
        _para(doc, texts.docx_late(late))
    if missing:
        _para(doc, texts.docx_missing(missing))


def _results(doc: DocumentObject, report: WeeklyReport) -> None:
    _para(doc, texts.DOCX_PART_RESULTS, bold=True)
    for n, ranking in enumerate(report.rankings, start=1):
        ind = ranking.indicator
        target = format_goal_pct(ind.target)
        _para(
            doc,
            texts.docx_indicator(n, ind.name, texts.chart_goal(target, ind.deadline)),
            bold=True,
        )
        if not ranking.rows:
            _para(doc, msg.no_reports_yet(report.period.label))
            continue
        for m, (title, rows) in enumerate(sections(ranking), start=1):
            _para(doc, texts.docx_section(f"{n}.{m}", title), italic=True)
            _table(doc, report.catalogue, ranking, rows)
        totals = total_cells(ranking)
        if ranking.total is not None and totals:
            cols = columns(report.catalogue, ranking)
            t = ranking.total
            _para(
                doc,
                msg.group_total(
                    cell_text(cols[1], t.numerator),
                    cell_text(cols[0], t.denominator),
                    cell_text(cols[2 + len(ind.counts)], t.rate),
                ),
            )
        if ranking.missing:
            _para(doc, msg.no_figures([u.name for u in ranking.missing]))
        if ind.target is not None:
            risk = report.at_risk.get(ind.code, ())
            _para(doc, texts.docx_at_risk(risk) if risk else texts.DOCX_NO_RISK)


def _table(
    doc: DocumentObject,
    cat: Catalogue,
    ranking: Ranking,
    rows: Sequence[Row],
    change: str = texts.COL_CHANGE_FULL,
) -> None:
    """As in the letters: with side columns, a first header row names each group (merged
    across its columns) and TT / Đơn vị span both header rows."""
    cols = columns(cat, ranking, change)
    grouped = any(c.group for c in cols)
    heads = 2 if grouped else 1
    table: Table = doc.add_table(rows=heads, cols=2 + len(cols))
    table.style = "Table Grid"
    last = table.rows[heads - 1].cells
    for cell, text in zip(last, [msg.COL_NO, msg.COL_UNIT, *(c.header for c in cols)], strict=True):
        _cell(cell, text, bold=True, align="center")
    if grouped:
        top = table.rows[0].cells
        for i in (0, 1):
            text = last[i].text
            merged = top[i].merge(last[i])
            _cell(merged, text, bold=True, align="center")
        start = 0
        while start < len(cols):
            end = start
            while end + 1 < len(cols) and cols[end + 1].group == cols[start].group:
                end += 1
            if not cols[start].group:  # a column of its own spans both header rows
                for i in range(start, end + 1):
                    _cell(top[2 + i].merge(last[2 + i]), cols[i].header, True, "center")
            else:
                merged = top[2 + start].merge(top[2 + end]) if end > start else top[2 + start]
                _cell(merged, cols[start].group, bold=True, align="center")
            start = end + 1
    for n, row in enumerate(rows, start=1):
        row_texts = [str(n), row.unit.name]
        row_texts += [cell_text(c, v) for c, v in zip(cols, cells(ranking, row), strict=True)]
        for i, (cell, text) in enumerate(zip(table.add_row().cells, row_texts, strict=True)):
            _cell(cell, text, align="left" if i == 1 else "right")
    _para(doc, "", size=6)


def _cell(cell: _Cell, text: str, bold: bool = False, align: str = "left") -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    for extra in cell.paragraphs[1:]:  # a merge leaves the merged cells' paragraphs behind
        extra._element.getparent().remove(extra._element)
    paragraph.text = ""
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(10.5)
    paragraph.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
    }[align]


def _closing(doc: DocumentObject) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].text = ""
    run = left.paragraphs[0].add_run(texts.DOCX_RECIPIENTS_TITLE)
    run.bold, run.italic = True, True
    run.font.size = Pt(12)
    for line in texts.DOCX_RECIPIENTS:
        left.add_paragraph().add_run(line).font.size = Pt(11)
    right.paragraphs[0].text = ""
    run = right.paragraphs[0].add_run(texts.DOCX_SIGNER)
    run.bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


# --- the month's, quarter's or year's report ------------------------------------------------


def period_docx_bytes(summary: PeriodSummary, today: date) -> bytes:
    """The monthly (quarterly, yearly) report's figures part, in the weekly draft's layout:
    who reported late and how often, then per indicator the figures at the period's end, the
    change over it, the ranking split met / not met and the milestones dated in it."""
    cat = summary.catalogue
    cal = cat.calendar
    label = summary.period.label
    last = summary.last_week.period
    due = cal.local(cal.due_at(last))
    doc = _document()
    _letterhead(doc, cat, today)
    _para(doc)
    _para(doc, texts.DOCX_KIND, bold=True, align="center", size=14)
    _para(doc, texts.period_subject(label, due), bold=True, align="center")
    _para(doc, texts.DOCX_DRAFT, italic=True, align="center", size=11)
    _para(doc, period_approval(summary), bold=True, align="center", size=12)
    _para(doc, texts.docx_to(cat.title), align="center")
    first = summary.weeks[0].period.label
    counted = sum(1 for w in summary.weeks if not cal.skipped(w.period))
    _para(doc, texts.period_intro(cat.office, label, counted, first, last.label))
    _period_status(doc, summary)
    _period_results(doc, summary)
    _closing(doc)
    return _saved(doc)


def period_approval(summary: PeriodSummary) -> str:
    """“Đã phê duyệt …” when a leader approved every reported week of the period, else the
    weeks not approved yet, in one line."""
    last = summary.last_approval
    reported = summary.reported_weeks
    missing = summary.unapproved
    if not missing and last is not None:
        at = summary.catalogue.calendar.local(last.at)
        return texts.period_approved(len(reported), last.by_name, at)
    if len(missing) == len(reported):  # a year's 52 weeks are not listed one by one
        return texts.period_none_approved(len(reported))
    year = summary.period.year
    numbers = [str(p.week) if p.year == year else f"{p.week}/{p.year}" for p in missing]
    return texts.period_not_approved(numbers, len(reported))


def _period_status(doc: DocumentObject, summary: PeriodSummary) -> None:
    cat = summary.catalogue
    weeks = [w for w in summary.weeks if not cat.calendar.skipped(w.period)]
    _para(doc, texts.DOCX_PART_STATUS, bold=True)
    behind = {x.unit.code for x in summary.lateness}
    complete = sum(1 for u in cat.active_units if u.code not in behind)
    _para(doc, texts.period_completeness(complete, len(cat.active_units), len(weeks)))
    year = summary.period.year

    def numbers(periods: Sequence[Period]) -> list[str]:
        return [str(p.week) if p.year == year else f"{p.week}/{p.year}" for p in periods]

    late = [
        texts.unit_weeks(x.unit.name, len(x.late), len(weeks), numbers(x.late))
        for x in summary.lateness
        if x.late
    ]
    missing = [
        texts.unit_weeks(x.unit.name, len(x.missing), len(weeks), numbers(x.missing))
        for x in sorted(summary.lateness, key=lambda x: -len(x.missing))
        if x.missing
    ]
    if late:
        _para(doc, texts.period_late(late))
    if missing:
        _para(doc, texts.period_missing(missing))
    if not late and not missing:
        _para(doc, texts.DOCX_ALL_ON_TIME)
    last = summary.last_week.period
    carried = [
        texts.carried_from(u.name, summary.source[u.code].label)
        for u in cat.units
        if u.code in summary.source and summary.source[u.code] != last
    ]
    if carried:
        _para(doc, texts.period_carried(carried))


def _period_results(doc: DocumentObject, summary: PeriodSummary) -> None:
    cat = summary.catalogue
    _para(doc, texts.DOCX_PART_RESULTS, bold=True)
    for n, ranking in enumerate(summary.rankings, start=1):
        ind = ranking.indicator
        target = format_goal_pct(ind.target)
        goal = texts.chart_goal(target, ind.deadline)
        _para(doc, texts.docx_indicator(n, ind.name, goal), bold=True)
        if not ranking.rows:
            _para(doc, msg.no_reports_yet(summary.period.label))
            continue
        total = period_total(summary, ranking)
        if total is not None:
            _para(doc, total)
        for m, (title, rows) in enumerate(sections(ranking), start=1):
            _para(doc, texts.docx_section(f"{n}.{m}", title), italic=True)
            _table(doc, cat, ranking, rows, texts.COL_CHANGE_PERIOD)
        if ranking.missing:
            _para(doc, msg.no_figures([u.name for u in ranking.missing]))
        if ind.target is not None:
            results = summary.milestones.get(ind.code, ())
            _para(doc, texts.DOCX_PART_MILESTONES if results else texts.DOCX_NO_MILESTONE)
            for result in results:
                _para(doc, milestone_text(summary, result))


def period_total(summary: PeriodSummary, ranking: Ranking) -> str | None:
    """The area's figures at the end and their change over the period (ratio of sums)."""
    ind = ranking.indicator
    end = ranking.total
    if end is None or end.rate is None:
        return None
    cat = summary.catalogue
    codes = [row.unit.code for row in ranking.rows]
    start = total_ratio(ind, [summary.start[c] for c in codes if c in summary.start])
    change = ""
    if start is not None and start.rate is not None:
        col = Column("", "", "change", ind.decimals)
        since_previous = any(c in summary.carried_in for c in codes)
        change = texts.period_change(cell_text(col, end.rate - start.rate), since_previous)
    return texts.period_total(
        summary.last_week.due,
        cat.scope,
        format_int(end.numerator),
        format_int(end.denominator),
        format_pct(end.rate, ind.decimals),
        change,
    )


def milestone_text(summary: PeriodSummary, result: MilestoneResult) -> str:
    m, ind = result.milestone, result.indicator
    goal = format_int(m.count) if m.count is not None else format_goal_pct(m.rate)
    if m.unit is not None and summary.catalogue.has_unit(m.unit):
        goal = texts.milestone_goal_unit(goal, summary.catalogue.unit(m.unit).name)
    area = ""
    if result.area is not None:
        share = result.area.share
        shown = format_pct(
            None if share is None else round_half_up(share, ind.decimals), ind.decimals
        )
        area = texts.milestone_area(summary.catalogue.scope, result.area.reached, shown)
    missed = [u.name for u in result.missed]
    return texts.milestone_line(goal, m.on, area, len(result.met), missed)
