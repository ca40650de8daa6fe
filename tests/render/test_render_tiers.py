"""An indicator with tiers in the files and charts: the activation rate of the 2024 Bình Sơn
letter's golden table (target 90 %, tiers [80, 90] in config/binh_son.toml) in three colours,
its Excel rate cells shaded by band, its Word sections one per band."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from docx import Document
from openpyxl import load_workbook

from core.catalogue import Catalogue
from core.ranking import rank
from core.tiers import Band
from render import charts
from render.docx import docx_bytes
from render.excel import BAND_FILLS, workbook_bytes
from tests.handlers.test_handlers_golden import _pct, _rows
from tests.render.test_render_charts import W47, WINDOW, _code, golden_values
from tests.render.test_render_files import _report

# The letter's activation rates (binh_son_2024_eid.csv), highest first as the bot ranks them.
GOLDEN = sorted(_rows("binh_son_2024_eid.csv"), key=lambda r: -Decimal(r["activated_rate_pct"]))


def _band(printed: str) -> str:
    rate = Decimal(printed)  # every printed rate here is the exact one rounded: none is near
    return "met" if rate >= 90 else "warning" if rate >= 80 else "critical"


def test_the_ranking_chart_has_a_colour_per_band_and_a_legend(catalogue: Catalogue) -> None:
    ind = catalogue.indicator("eid_activated")
    (spec,) = charts.ranking_specs(rank(catalogue, ind, golden_values(catalogue)), W47, *WINDOW)
    assert [b.unit for b in spec.bars] == [_code(catalogue, r["unit"]) for r in GOLDEN]
    assert [b.label for b in spec.bars] == [_pct(r["activated_rate_pct"]) for r in GOLDEN]
    colour = {"met": charts.MET, "warning": charts.WARNING, "critical": charts.CRITICAL}
    assert [b.colour for b in spec.bars] == [colour[_band(r["activated_rate_pct"])] for r in GOLDEN]
    # The letter's units fall in two bands: eleven from 90 %, eleven from 80 % to below 90 %.
    assert [b.colour for b in spec.bars].count(charts.MET) == 11
    assert [b.colour for b in spec.bars].count(charts.WARNING) == 11
    assert spec.legend == (
        (charts.MET, "Từ 90%"),
        (charts.WARNING, "Từ 80% đến dưới 90%"),
        (charts.CRITICAL, "Dưới 80%"),
    )


def test_the_png_shows_the_three_colours(catalogue: Catalogue) -> None:
    from tests.render.test_render_charts import _hex, _pixels

    ind = catalogue.indicator("eid_activated")
    (spec,) = charts.ranking_specs(rank(catalogue, ind, golden_values(catalogue)), W47, *WINDOW)
    _, colours = _pixels(charts.render_png(spec))
    # Bars of two bands, and the legend's square of the third.
    assert {_hex(charts.MET), _hex(charts.WARNING), _hex(charts.CRITICAL)} <= colours


def test_an_indicator_without_tiers_keeps_met_and_not_met(catalogue: Catalogue) -> None:
    ind = catalogue.indicator("eid_verified")
    (spec,) = charts.ranking_specs(rank(catalogue, ind, golden_values(catalogue)), W47, *WINDOW)
    assert {b.colour for b in spec.bars} == {charts.MET, charts.NOT_MET}
    assert [c for c, _ in spec.legend] == [charts.MET, charts.NOT_MET]


def test_the_workbook_shades_each_rate_by_its_band(catalogue: Catalogue) -> None:
    wb = load_workbook(io.BytesIO(workbook_bytes(_report(catalogue))))
    ws = wb["Kích hoạt ĐDĐT"]
    titles = [row[0].value for row in ws.iter_rows() if isinstance(row[0].value, str)]
    assert "Đơn vị từ 90% (11)" in titles
    assert "Đơn vị từ 80% đến dưới 90% (11)" in titles
    assert not [t for t in titles if t.startswith("Đơn vị dưới 80%")]
    rate_col = [c.value for c in ws[3]].index("Đạt tỉ lệ") + 1
    shades = {}
    for row in ws.iter_rows(min_row=4):
        if isinstance(row[0].value, int):
            shades[row[1].value] = row[rate_col - 1].fill.fgColor.rgb[-6:]
    band = {"met": Band.MET, "warning": Band.WARNING}
    expected = {
        _name(catalogue, r["unit"]): BAND_FILLS[band[_band(r["activated_rate_pct"])]]
        for r in GOLDEN
    }
    assert shades == expected
    # An indicator without tiers has no shaded cells.
    plain = wb["Xác thực ĐDĐT"]
    shades_of_bands = set(BAND_FILLS.values())
    shaded = [
        c for row in plain.iter_rows() for c in row if c.fill.fgColor.rgb[-6:] in shades_of_bands
    ]
    assert not shaded


def _name(catalogue: Catalogue, printed: str) -> str:
    unit = catalogue.match_unit(printed).unit
    assert unit is not None, printed
    return unit.name


def test_the_word_draft_has_a_section_per_band(catalogue: Catalogue) -> None:
    doc = Document(io.BytesIO(docx_bytes(_report(catalogue), date(2024, 11, 18))))
    text = "\n".join(p.text for p in doc.paragraphs)
    number = [i.code for i in catalogue.ranked_indicators].index("eid_activated") + 1
    assert f"{number}.1. Các đơn vị từ 90% (11)" in text
    assert f"{number}.2. Các đơn vị từ 80% đến dưới 90% (11)" in text
    # The indicators without tiers keep the letter's met / not met sections.
    assert "Các đơn vị đã hoàn thành chỉ tiêu (8)" in text
