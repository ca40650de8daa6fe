"""Chart specs (order, colours, labels, the 40-bar limit) checked on data, then the PNGs on
pixels; fed with the golden tables of the 2024 Bình Sơn letter."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from core.catalogue import Catalogue, Unit
from core.numbers import format_int
from core.pace import carry_forward, points
from core.periods import Period
from core.ranking import rank
from render import charts
from tests.handlers.test_handlers_golden import _pct, _reports, _rows

ROOT = Path(__file__).resolve().parents[2]
W47 = Period(2024, 47)
WINDOW = (date(2024, 11, 11), date(2024, 11, 18))


def golden_values(catalogue: Catalogue) -> dict[str, dict[str, int]]:
    """Every unit's golden figures keyed by unit code and field code."""
    out = {}
    for name, values in _reports().items():
        unit = catalogue.match_unit(name).unit
        assert unit is not None, name
        fields = {catalogue.field_for_label(label): v for label, v in values.items()}
        out[unit.code] = {k: v for k, v in fields.items() if k is not None}
    return out


def _code(catalogue: Catalogue, printed: str) -> str:
    unit = catalogue.match_unit(printed).unit
    assert unit is not None, printed
    return unit.short_name


def _pixels(png: bytes) -> tuple[tuple[int, int], set[object]]:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        counted = rgb.getcolors(maxcolors=rgb.width * rgb.height) or []
        return rgb.size, {colour for _, colour in counted}


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_ranking_spec_follows_the_golden_order_colours_and_labels(catalogue: Catalogue) -> None:
    ranking = rank(catalogue, catalogue.indicator("eid_verified"), golden_values(catalogue))
    (spec,) = charts.ranking_specs(ranking, W47, *WINDOW)
    rows = _rows("binh_son_2024_eid.csv")
    assert [b.unit for b in spec.bars] == [_code(catalogue, r["unit"]) for r in rows]
    assert [b.label for b in spec.bars] == [_pct(r["verified_rate_pct"]) for r in rows]
    expected = [charts.MET if r["target_met"] == "yes" else charts.NOT_MET for r in rows]
    assert [b.colour for b in spec.bars] == expected
    assert spec.target == 80.0
    assert spec.target_label == "Chỉ tiêu 80%"
    assert spec.title == "Tỉ lệ xác thực định danh điện tử mức 2"
    assert spec.subtitle == (
        "Tuần 47/2024 · số liệu từ 11/11 đến 18/11/2024 · chỉ tiêu 80%, hạn 31/12/2024"
    )
    # Room to the right of the longest bar for its label.
    assert spec.xmax > max(b.rate for b in spec.bars)
    # Labels start past their bar and never straddle the target line (units near 80%).
    width = spec.xmax * charts.LABEL_SHARE
    assert all(b.label_at > b.rate for b in spec.bars)
    assert not [b.unit for b in spec.bars if b.label_at < 80 < b.label_at + width]
    assert spec.bars[8].label_at > 80  # Bình Nguyên, 79,71%: its label moved past the line


def test_ranking_spec_of_the_combined_non_cash_rate(catalogue: Catalogue) -> None:
    ranking = rank(catalogue, catalogue.indicator("non_cash"), golden_values(catalogue))
    (spec,) = charts.ranking_specs(ranking, W47, *WINDOW)
    rows = _rows("binh_son_2024_non_cash.csv")
    assert [(b.unit, b.label) for b in spec.bars] == [
        (_code(catalogue, r["unit"]), _pct(r["combined_rate_pct"])) for r in rows
    ]
    assert spec.bars[0].label == "92,86%"  # (401 + 106) / (440 + 106), not a mean of rates


def _many_units(catalogue: Catalogue, count: int) -> tuple[Catalogue, dict[str, dict[str, int]]]:
    units = tuple(Unit(f"u{n:02d}", f"Xã Thử {n:02d}") for n in range(1, count + 1))
    bigger = dataclasses.replace(catalogue, units=units)
    values = {
        u.code: {"citizen_id_issued": 1000, "eid_verified": 500 + 10 * n}
        for n, u in enumerate(units)
    }
    return bigger, values


@pytest.mark.parametrize(("count", "images"), [(40, 1), (41, 2), (85, 3)])
def test_at_most_forty_bars_per_image(catalogue: Catalogue, count: int, images: int) -> None:
    bigger, values = _many_units(catalogue, count)
    ranking = rank(bigger, bigger.indicator("eid_verified"), values)
    specs = charts.ranking_specs(ranking, W47, *WINDOW)
    assert len(specs) == images
    assert all(len(s.bars) <= charts.MAX_BARS for s in specs)
    # Together, in order, every unit exactly once.
    assert [b.unit for s in specs for b in s.bars] == [r.unit.short_name for r in ranking.rows]
    if images > 1:
        assert specs[0].subtitle.endswith(f"phần 1/{images}")
        assert specs[-1].subtitle.endswith(f"phần {images}/{images}")
        # Every part on the same scale, so bars compare across images.
        assert len({s.xmax for s in specs}) == 1


def test_ranking_png_is_a_real_picture_in_the_palette(catalogue: Catalogue) -> None:
    ranking = rank(catalogue, catalogue.indicator("eid_verified"), golden_values(catalogue))
    (spec,) = charts.ranking_specs(ranking, W47, *WINDOW)
    png = charts.render_png(spec)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    (width, height), colours = _pixels(png)
    assert width == int(charts.WIDTH_IN * charts.DPI)
    assert height > width  # 22 bars: a tall image a phone scrolls
    assert _hex(charts.MET) in colours
    assert _hex(charts.NOT_MET) in colours
    assert len(colours) > 50  # text and anti-aliasing, not a blank canvas


def _weeks(catalogue: Catalogue) -> list[tuple[Period, dict[str, dict[str, int]]]]:
    """Five weeks that climb to the golden figures of week 47."""
    final = golden_values(catalogue)
    weeks = []
    for back in range(4, -1, -1):
        scaled = {
            unit: {f: v if f == "citizen_id_issued" else v - 40 * back for f, v in values.items()}
            for unit, values in final.items()
        }
        weeks.append((W47.shift(-back), scaled))
    return weeks


def _group(catalogue: Catalogue) -> list[tuple[date, dict[str, int]]]:
    by_date = [(catalogue.calendar.due_at(p).date(), r) for p, r in _weeks(catalogue)]
    return carry_forward([u.code for u in catalogue.units], by_date)


def test_trend_spec_gives_the_group_rate_each_week(catalogue: Catalogue) -> None:
    ind = catalogue.indicator("eid_verified")
    spec = charts.trend_spec(ind, _group(catalogue), "huyện Bình Sơn")
    assert spec is not None
    assert spec.dates[-1] == date(2024, 11, 18)
    assert len(spec.dates) == 5
    assert spec.rates == tuple(sorted(spec.rates))  # climbing, as the input does
    assert spec.labels[-1] == "79,22%"  # 137.364 / 173.391 over the 22 golden units
    assert (spec.target, spec.deadline) == (80.0, date(2024, 12, 31))
    png = charts.render_png(spec)
    (_, _), colours = _pixels(png)
    assert _hex(charts.NEUTRAL) in colours


def test_progress_spec_draws_the_line_to_the_target_by_the_deadline(
    catalogue: Catalogue,
) -> None:
    ind = catalogue.indicator("eid_verified")
    history = points(ind, _group(catalogue))
    spec = charts.progress_spec(ind, history, "huyện Bình Sơn", date(2024, 11, 18))
    assert spec is not None
    assert spec.actual[-1] == 137_364
    # core.pace: ceil(80% of the 173.391 issued cards).
    assert spec.target_count == 138_713
    assert spec.plan == ((history[0].on, history[0].numerator), (date(2024, 12, 31), 138_713))
    assert "còn thiếu 1.349" in spec.subtitle
    assert charts.render_png(spec).startswith(b"\x89PNG")


def test_heatmap_spec_orders_units_by_latest_rate(catalogue: Catalogue) -> None:
    ind = catalogue.indicator("eid_verified")
    spec = charts.heatmap_spec(catalogue, ind, _weeks(catalogue))
    assert spec is not None
    rows = _rows("binh_son_2024_eid.csv")
    assert spec.units == tuple(_code(catalogue, r["unit"]) for r in rows)
    assert spec.weeks == ("43/2024", "44/2024", "45/2024", "46/2024", "47/2024")
    assert spec.labels[0][-1] == "85,24%"
    png = charts.render_png(spec)
    (_, _), colours = _pixels(png)
    assert _hex(charts.MET) in colours or len(colours) > 50


def test_heatmap_marks_a_missing_week(catalogue: Catalogue) -> None:
    weeks = _weeks(catalogue)
    first_period, first = weeks[0]
    weeks[0] = (first_period, {k: v for k, v in first.items() if k != "binh_an"})
    spec = charts.heatmap_spec(catalogue, catalogue.indicator("eid_verified"), weeks)
    assert spec is not None
    row = spec.units.index("Bình An")
    assert spec.rates[row][0] is None
    assert spec.labels[row][0] == "—"
    charts.render_png(spec)


def test_no_data_gives_no_spec(catalogue: Catalogue) -> None:
    ind = catalogue.indicator("eid_verified")
    assert charts.trend_spec(ind, [], "x") is None
    assert charts.progress_spec(ind, [], "x", date(2024, 11, 18)) is None
    assert charts.heatmap_spec(catalogue, ind, [(W47, {})]) is None


def test_importing_the_bot_does_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys, bot.cli, bot.app, handlers.engine, render.charts, render.report;"
        "heavy = [m for m in ('matplotlib', 'openpyxl', 'docx', 'PIL') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_ranking_bars_print_the_letters_count_columns(catalogue: Catalogue) -> None:
    """The ID-card table of the letter prints "Chưa cấp" beside each rate: so does the chart,
    to the digit (`counts = ["remaining"]` in the shipped config)."""
    ranking = rank(catalogue, catalogue.indicator("id_card_6_14"), golden_values(catalogue))
    (spec,) = charts.ranking_specs(ranking, W47, *WINDOW)
    rows = {_code(catalogue, r["unit"]): r for r in _rows("binh_son_2024_id_card_6_14.csv")}
    for bar in spec.bars:
        remaining = int(rows[bar.unit]["not_issued"])
        assert bar.counts == f"Chưa cấp {format_int(remaining)}"
        assert bar.text == f"{bar.label} · Chưa cấp {format_int(remaining)}"
    # The axis leaves room for the longest label past the longest bar.
    longest = max(spec.bars, key=lambda b: b.rate + len(b.text))
    assert longest.label_at + spec.xmax * charts.LABEL_SHARE * len(longest.text) / 7 < spec.xmax
    # Without count columns the bars print their rate alone.
    verified = rank(catalogue, catalogue.indicator("eid_verified"), golden_values(catalogue))
    (plain,) = charts.ranking_specs(verified, W47, *WINDOW)
    assert all(b.text == b.label for b in plain.bars)
