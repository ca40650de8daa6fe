"""Issue 17: a national summary group (`[chats.KEY] digest = "summary"`) on the bench's
national data set (3,321 units in 34 provinces): at most three text messages plus one chart
per indicator, never hundreds, with its totals checked against the stored figures computed
here independently. Real SQLite and PostgreSQL (`db` fixture)."""

from __future__ import annotations

import math
import tomllib
from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.synth import store, submissions
from bench.synthetic import config_data, hierarchy, series
from bot.telegram.html import MESSAGE_LIMIT, to_html
from core.catalogue import Catalogue, Indicator, build_catalogue
from core.chat import Photo, render_plain
from core.periods import Period
from core.schedule import Job, JobKind
from handlers.reminders import job_posts
from storage import Database
from tests.conftest import CONFIG_PATH

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = Period(2024, 47)
SUMMARY = "tong_hop"
UNITS = 3321


def _national() -> Catalogue:
    base = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    data = config_data(base, hierarchy(UNITS, 0, 34))
    data["chats"][SUMMARY] = {"title": "TỔNG HỢP TOÀN QUỐC", "digest": "summary", "top": 5}
    return build_catalogue(data)


def _pct(numerator: int, denominator: int, ind: Indicator) -> str:
    """The rate as the letters print it, computed here without the project's helpers."""
    scaled = Fraction(numerator * 100 * 10**ind.decimals, denominator)
    whole = math.floor(scaled) if ind.truncate else math.floor(scaled + Fraction(1, 2))
    text = str(whole).rjust(ind.decimals + 1, "0")
    if ind.decimals:
        text = text[: -ind.decimals] + "," + text[-ind.decimals :]
    return text + "%"


async def test_the_national_summary_is_three_messages_with_totals_per_province(
    db: Database, tmp_path: Path
) -> None:
    cat = _national()
    weeks = series(cat, 2, WEEK, 0)
    await store(db, submissions(cat, weeks))
    at = datetime(2024, 11, 18, 14, 0, tzinfo=TZ)
    posts = await job_posts(cat, db, Job(at, JobKind.DIGEST, SUMMARY, WEEK), at, tmp_path)
    assert all(p.to.key == SUMMARY for p in posts)
    texts = [p for p in posts if not any(isinstance(b, Photo) for b in p.message.blocks)]
    photos = [b for p in posts for b in p.message.blocks if isinstance(b, Photo)]
    # Three text messages, each one Telegram message (no split at 4,096 characters) ...
    assert len(texts) == 3
    for post in texts:
        [page] = to_html(post.message.blocks)
        assert len(page) <= MESSAGE_LIMIT
    # ... and one chart of 34 provinces per ranked indicator.
    ranked = cat.ranked_indicators
    assert len(photos) == len(ranked)
    assert all(p.path.exists() for p in photos)
    head, rates, units = (render_plain(p.message.blocks) for p in texts)

    # What is stored, read back, and summed here per province.
    async with db.unit_of_work() as uow:
        stored = {r.unit: r.values for r in await uow.submissions.current_values([WEEK.key])}
    province = {u.code: u.province for u in cat.units}
    provinces = list(dict.fromkeys(u.province for u in cat.units))
    assert len(provinces) == 34
    total = defaultdict(int)
    reported = defaultdict(int)
    for unit in cat.units:
        total[unit.province] += 1
        reported[unit.province] += unit.code in stored
    missing = UNITS - len(stored)
    assert 0 < missing < UNITS
    assert f"Đã báo cáo: {len(stored)}/{UNITS} đơn vị" in head
    assert f"chưa báo cáo: {missing}." in head
    for name in provinces:
        absent = total[name] - reported[name]
        tail = f"chưa báo cáo {absent}" if absent else "đủ"
        assert f"\n• {name}: {reported[name]}/{total[name]} · {tail}" in head
    # Missing units are counted per province, never listed.
    missing_names = [u.short_name for u in cat.units if u.code not in stored]
    assert not any(f" {n}," in head or f" {n}\n" in head for n in missing_names)

    def sums(ind: Indicator, codes: list[str]) -> tuple[int, int] | None:
        num = den = 0
        counted = False
        for code in codes:
            values = stored.get(code)
            if values is None or any(f not in values for f in ind.numerator + ind.denominator):
                continue
            num += sum(values[f] for f in ind.numerator)
            den += sum(values[f] for f in ind.denominator)
            counted = True
        return (num, den) if counted and den else None

    for name in provinces:
        codes = [c for c, p in province.items() if p == name]
        expected = []
        for ind in ranked:
            both = sums(ind, codes)
            expected.append("—" if both is None else _pct(*both, ind))
        assert f"\n• {name}: {' · '.join(expected)}" in rates
    whole = [_pct(*(sums(ind, list(province)) or (0, 1)), ind) for ind in ranked]
    assert f"Chung: {' · '.join(whole)}" in rates

    # Each indicator's five best units, by exact rate, named with their province.
    for ind in ranked:
        scored = []
        for unit in cat.units:
            both = sums(ind, [unit.code])
            if both is not None:
                scored.append((Fraction(*both), unit))
        scored.sort(key=lambda item: -item[0])
        best = scored[0]
        line = f"{best[1].short_name} ({best[1].province}) {_pct(*_parts(best), ind)}"
        if scored[1][0] != best[0]:  # a tie would be broken by name
            assert f"Cao nhất: {line}" in units
        worst = scored[-1]
        if scored[-2][0] != worst[0]:
            low = f"{worst[1].short_name} ({worst[1].province}) {_pct(*_parts(worst), ind)}"
            assert f"Thấp nhất: {low}" in units
    assert len(units.split("Cao nhất: ")) == len(ranked) + 1


def _parts(item: tuple[Fraction, object]) -> tuple[int, int]:
    return item[0].numerator, item[0].denominator
