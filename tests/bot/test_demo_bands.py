"""The demo week shows a band in a chart: config/binh_son.toml ranks the activation rate in
three bands (tiers = [80, 90]), and the Monday digest's chart of it is drawn in their colours."""

from __future__ import annotations

from pathlib import Path

from core.catalogue import Catalogue
from render import charts
from storage import Database
from tests.bot.test_phone_width import _demo_week
from tests.render.test_render_charts import _hex, _pixels


async def test_the_demo_digest_draws_the_activation_rate_in_bands(
    db: Database, catalogue: Catalogue, tmp_path: Path
) -> None:
    await _demo_week(db, catalogue, tmp_path)
    _, colours = _pixels((tmp_path / "bieudo_xephang_eid_activated_all_2024-W47.png").read_bytes())
    assert {_hex(charts.MET), _hex(charts.WARNING), _hex(charts.CRITICAL)} <= colours
    # An indicator without tiers keeps its two colours.
    _, plain = _pixels((tmp_path / "bieudo_xephang_eid_verified_all_2024-W47.png").read_bytes())
    assert _hex(charts.WARNING) not in plain
    assert _hex(charts.NOT_MET) in plain
