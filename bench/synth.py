"""`python -m bench synth`: a synthetic national set-up and a year of reports, for benchmarks.

The set-up is written as TOML (the base file's fields, indicators, error rules and calendar, with
generated units and officers); the reports go through the storage layer's bulk path, as the
very rows the engine stores when each officer sends them (same text, warnings and audit).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.synthetic import (
    PROVINCES,
    SynthReport,
    config_data,
    hierarchy,
    officer_key,
    series,
    toml_text,
)
from bot.config_file import load_catalogue
from core.catalogue import Catalogue
from core.periods import Period
from core.submission import Sender, Submission
from core.validation import review
from handlers.common import template_text
from handlers.reports import HISTORY_WEEKS
from storage import Database
from storage.repositories import AuditEntry

PLATFORM = "sim"
CHAT = "nhom_bao_cao"
DEFAULT_LAST = Period(2024, 47)


@dataclass(frozen=True)
class SynthResult:
    config_path: Path
    catalogue: Catalogue
    reports: int
    periods: tuple[Period, ...]


def write_config(
    base_path: Path,
    out_path: Path,
    units: int,
    seed: int,
    timezone: str,
    provinces: int = PROVINCES,
) -> Catalogue:
    """Write the synthetic set-up, then load it the way the bot does (so it is checked)."""
    base = tomllib.loads(base_path.read_text(encoding="utf-8"))
    data = config_data(base, hierarchy(units, seed, provinces))
    header = f"Synthetic set-up: {units} units, seed {seed}, from {base_path.name}. Not real data."
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(toml_text(data, header), encoding="utf-8")
    return load_catalogue(out_path, timezone)


def message_text(catalogue: Catalogue, report: SynthReport) -> str:
    """What the unit's officer sends: `/baocao`, the unit, one line per figure."""
    unit = catalogue.unit(report.unit)
    return template_text(catalogue, unit, report.values, only_given=True)


def submissions(
    catalogue: Catalogue, weeks: Sequence[Sequence[SynthReport]]
) -> list[list[Submission]]:
    """Each report as the engine would store it: its officer as sender, the group chat, the
    message text, and the warnings review gives against the unit's earlier reports."""
    history: dict[str, list[dict[str, int]]] = {}
    names = {p.key: p.name for p in catalogue.people}
    out = []
    for week in weeks:
        stored = []
        for r in week:
            earlier = history.setdefault(r.unit, [])
            verdict = review(r.values, catalogue, earlier[:HISTORY_WEEKS])
            if not verdict.accepted or verdict.confirmations:
                raise ValueError(f"synthetic report refused: {r.unit} {r.period}: {verdict}")
            person = officer_key(r.unit)
            stored.append(
                Submission(
                    unit=r.unit,
                    period=r.period.key,
                    version=1,
                    values=r.values,
                    late=r.late,
                    sent_at=r.sent_at,
                    sender=Sender(PLATFORM, person, names[person]),
                    chat=CHAT,
                    raw_text=message_text(catalogue, r),
                    warnings=verdict.warnings,
                )
            )
            earlier.insert(0, r.values)
        out.append(stored)
    return out


async def store(db: Database, weeks: Sequence[Sequence[Submission]]) -> int:
    """One unit of work per week: the submissions and their `report.create` audit entries."""
    count = 0
    for week in weeks:
        async with db.unit_of_work() as uow:
            await uow.submissions.add_first_versions([(s, s.sent_at) for s in week])
            await uow.audit.add_many(
                [
                    AuditEntry(
                        at=s.sent_at,
                        actor=f"{s.sender.platform}:{s.sender.user_id}",
                        action="report.create",
                        unit=s.unit,
                        period=s.period,
                        detail={"version": 1, "changes": []},
                    )
                    for s in week
                ]
            )
            await uow.commit()
        count += len(week)
    return count


async def synthesize(
    db: Database,
    base_path: Path,
    out_config: Path,
    units: int,
    weeks: int,
    seed: int = 0,
    last: Period = DEFAULT_LAST,
    timezone: str = "Asia/Ho_Chi_Minh",
    provinces: int = PROVINCES,
) -> SynthResult:
    catalogue = write_config(base_path, out_config, units, seed, timezone, provinces)
    reports = series(catalogue, weeks, last, seed)
    count = await store(db, submissions(catalogue, reports))
    periods = tuple(week[0].period for week in reports if week)
    return SynthResult(out_config, catalogue, count, periods)
