"""The synthetic data generator: a valid set-up, plausible series, the engine's own rows."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
import tomllib
from contextlib import closing
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.synth import CHAT, PLATFORM, store, submissions, write_config
from bench.synthetic import config_data, hierarchy, officer_key, series, toml_text
from core.catalogue import Catalogue, build_catalogue, strip_unit_type
from core.chat import Incoming, render_plain
from core.periods import Period
from core.text import key
from core.validation import review
from handlers.engine import Engine
from storage import Database

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "config" / "binh_son.toml"
LAST = Period(2024, 47)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    path = tmp_path_factory.mktemp("synth") / "synth.toml"
    return write_config(BASE, path, 60, seed=7, timezone="Asia/Ho_Chi_Minh")


def test_hierarchy_has_unique_codes_and_names_over_every_province() -> None:
    units = hierarchy(400, seed=1)
    assert len(units) == 400
    assert len({u.code for u in units}) == 400
    # Unique even without the unit type and diacritics: no name can be misfiled.
    assert len({key(strip_unit_type(u.name)) for u in units}) == 400
    assert len({u.province for u in units}) == 34
    assert {u.name.split(" ")[0] for u in units} <= {"Xã", "Phường", "Thị"}


def test_hierarchy_and_series_are_deterministic_for_a_seed(synthetic: Catalogue) -> None:
    assert hierarchy(50, seed=3) == hierarchy(50, seed=3)
    assert hierarchy(50, seed=3) != hierarchy(50, seed=4)
    assert series(synthetic, 4, LAST, seed=3) == series(synthetic, 4, LAST, seed=3)
    assert series(synthetic, 4, LAST, seed=3) != series(synthetic, 4, LAST, seed=4)


def test_the_written_config_loads_with_the_base_indicators(synthetic: Catalogue) -> None:
    base = build_catalogue(tomllib.loads(BASE.read_text(encoding="utf-8")))
    assert len(synthetic.units) == 60
    assert [i.code for i in synthetic.indicators] == [i.code for i in base.indicators]
    assert [f.code for f in synthetic.fields] == [f.code for f in base.fields]
    for unit in synthetic.units:
        (officer,) = synthetic.officers_of(unit.code)
        assert officer.key == officer_key(unit.code)
        assert synthetic.match_unit(unit.name).unit == unit


def test_toml_text_round_trips() -> None:
    data = config_data({"calendar": {"due_time": "10:00", "late_hours": 48}}, hierarchy(3))
    data["extra"] = {"quote": 'say "hi" \\ bye', "flag": True, "list": ["a", "b"]}
    assert tomllib.loads(toml_text(data, "header")) == data


def test_series_are_cumulative_consistent_and_accepted(synthetic: Catalogue) -> None:
    weeks = series(synthetic, 12, LAST, seed=7)
    assert [w[0].period for w in weeks] == [LAST.shift(n) for n in range(-11, 1)]
    by_unit: dict[str, list[dict[str, int]]] = {}
    late = missing = 0
    for week in weeks:
        missing += len(synthetic.units) - len(week)
        for r in week:
            placed = synthetic.calendar.place(r.sent_at)
            assert (placed.period, placed.late) == (r.period, r.late)
            late += r.late
            earlier = by_unit.setdefault(r.unit, [])
            verdict = review(r.values, synthetic, earlier[:5])
            assert verdict.accepted, verdict.errors
            assert not verdict.confirmations
            earlier.insert(0, r.values)
    for history in by_unit.values():
        for newer, older in itertools.pairwise(history):
            assert newer.keys() == older.keys()
            assert all(newer[f] >= older[f] for f in newer)
    reports = sum(len(w) for w in weeks)
    # Some late, some missing, most on time.
    assert 0 < late < reports / 3
    assert 0 < missing < reports / 5


def test_rules_that_only_warn_or_ask_never_take_required_fields_away(tmp_path: Path) -> None:
    """The shipped file's `confirm` and `warning` rules name optional fields beside required
    ones (BTXH + NCC against the cards issued): they are checked only when all are given, so
    a unit that leaves the optional ones out still reports every required field (they once
    took the required fields away with them, and the bench's replies became refusals)."""
    from bench.telegram import write_setup

    shipped = build_catalogue(tomllib.loads(BASE.read_text(encoding="utf-8")))
    assert {r.severity.value for r in shipped.rules} == {"error", "confirm", "warning"}
    required = {f.code for f in shipped.fields if f.required}
    for week in series(shipped, 12, LAST, seed=0):
        for r in week:
            assert required <= r.values.keys(), r.unit
    bench_setup = write_setup(tmp_path / "groups.toml", 20)
    assert {r.severity.value for r in bench_setup.rules} == {"error"}
    for week in series(bench_setup, 12, LAST, seed=0):
        for r in week:
            assert review(r.values, bench_setup).accepted


async def test_bulk_rows_are_the_rows_the_engine_stores(db: Database, synthetic: Catalogue) -> None:
    weeks = series(synthetic, 4, LAST, seed=7)
    stored = submissions(synthetic, weeks)
    assert await store(db, stored[:3]) == sum(len(w) for w in weeks[:3])
    engine = Engine(synthetic, db)
    pairs = sorted(zip(weeks[3], stored[3], strict=True), key=lambda p: p[0].sent_at)
    for report, bulk in pairs[:5]:
        engine.clock = lambda r=report: r.sent_at  # type: ignore[misc]
        message = Incoming(
            PLATFORM,
            CHAT,
            "group",
            officer_key(report.unit),
            "whatever the platform says",
            bulk.raw_text,
            report.sent_at,
        )
        replies = await engine.handle(message)
        assert render_plain(replies[0].blocks).startswith("✅")
        async with db.unit_of_work() as uow:
            assert await uow.submissions.current(report.unit, report.period.key) == bulk
            (audit,) = await uow.audit.recent(1)
        assert (audit.at, audit.actor, audit.action, audit.unit, audit.period) == (
            report.sent_at,
            f"{PLATFORM}:{officer_key(report.unit)}",
            "report.create",
            report.unit,
            report.period.key,
        )
        assert audit.detail == {"version": 1, "changes": []}


def test_bench_synth_writes_config_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "n.toml"
    url = f"sqlite:///{tmp_path / 'n.db'}"
    args = ["synth", "--units", "8", "--weeks", "3", "--db", url, "--out-config", str(config)]
    assert main([*args, "--config", str(BASE), "--seed", "2"]) == 0
    assert "8 units" in capsys.readouterr().out
    text = config.read_text(encoding="utf-8")
    assert len(build_catalogue(tomllib.loads(text)).units) == 8
    with closing(sqlite3.connect(tmp_path / "n.db")) as con:
        (periods,) = con.execute("SELECT count(DISTINCT period) FROM submissions").fetchone()
        (units,) = con.execute("SELECT count(DISTINCT unit) FROM submissions").fetchone()
    assert (periods, units) == (3, 8)


def test_the_same_seed_gives_the_same_data_in_another_process() -> None:
    # String hashing differs between processes; nothing may depend on set order.
    code = (
        "import hashlib, tomllib, pathlib;"
        "from core.catalogue import build_catalogue;"
        "from core.periods import Period;"
        "from bench.synthetic import config_data, hierarchy, series;"
        "base = tomllib.loads(pathlib.Path('config/binh_son.toml').read_text('utf-8'));"
        "cat = build_catalogue(config_data(base, hierarchy(30, 5)));"
        "print(hashlib.sha256(repr(series(cat, 6, Period(2024, 47), 5)).encode()).hexdigest())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
