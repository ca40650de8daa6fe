"""The figures: each is one decorated async function; running them writes JSON and a table."""

from __future__ import annotations

import json
import statistics
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

Direction = Literal["min", "max"]  # the goal is a minimum (higher is better) or a maximum


@dataclass(frozen=True)
class Measurement:
    value: float
    baseline: float | None = None  # for ratios: the denominator, measured in the same run
    note: str = ""


@dataclass(frozen=True)
class Result:
    name: str
    value: float | None
    unit: str
    goal: float | None
    direction: Direction
    baseline: float | None = None
    note: str = ""
    error: str = ""

    @property
    def ok(self) -> bool | None:
        if self.value is None:
            return False
        if self.goal is None:
            return None
        return self.value >= self.goal if self.direction == "min" else self.value <= self.goal

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "goal": self.goal,
            "direction": self.direction,
            "ok": self.ok,
        }
        if self.baseline is not None:
            out["baseline"] = self.baseline
        if self.note:
            out["note"] = self.note
        if self.error:
            out["error"] = self.error
        return out


C = TypeVar("C")
FigureFn = Callable[[C], Awaitable[Measurement]]


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    goal: float | None
    direction: Direction
    run: Callable[[Any], Awaitable[Measurement]]
    tags: frozenset[str] = frozenset()


@dataclass
class Registry:
    figures: list[Figure] = field(default_factory=list)

    def figure(
        self,
        name: str,
        unit: str,
        goal: float | None = None,
        direction: Direction = "min",
        tags: Sequence[str] = (),
    ) -> Callable[[FigureFn[C]], FigureFn[C]]:
        """Register a figure; figures run in the order they are registered."""

        def register(fn: FigureFn[C]) -> FigureFn[C]:
            if any(f.name == name for f in self.figures):
                raise ValueError(f"figure {name!r} registered twice")
            self.figures.append(Figure(name, unit, goal, direction, fn, frozenset(tags)))
            return fn

        return register

    def select(self, names: Sequence[str] = ()) -> list[Figure]:
        if not names:
            return list(self.figures)
        unknown = set(names) - {f.name for f in self.figures}
        if unknown:
            raise KeyError(f"unknown figures: {', '.join(sorted(unknown))}")
        return [f for f in self.figures if f.name in names]

    async def run(
        self, context: Any, names: Sequence[str] = (), log: Callable[[str], None] = print
    ) -> list[Result]:
        """Every selected figure; a figure that fails is recorded with its error, not fatal."""
        results = []
        for fig in self.select(names):
            started = time.perf_counter()
            try:
                m = await fig.run(context)
                result = Result(
                    fig.name, m.value, fig.unit, fig.goal, fig.direction, m.baseline, m.note
                )
            except Exception as exc:
                detail = traceback.format_exc(limit=3)
                result = Result(fig.name, None, fig.unit, fig.goal, fig.direction, error=repr(exc))
                log(detail)
            log(
                f"  {fig.name}: {_value_text(result.value)} {fig.unit} "
                f"({time.perf_counter() - started:.1f} s)"
            )
            results.append(result)
        return results


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def write_json(results: Sequence[Result], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = [r.as_json() for r in results]
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def table(results: Sequence[Result]) -> str:
    """A Markdown table, readable on a terminal too."""
    rows = [("figure", "value", "unit", "goal", "ok", "baseline")]
    for r in results:
        goal = "" if r.goal is None else ("≥ " if r.direction == "min" else "≤ ") + _num(r.goal)
        ok = {True: "yes", False: "NO", None: "—"}[r.ok]
        baseline = "" if r.baseline is None else _num(r.baseline)
        rows.append((r.name, _value_text(r.value), r.unit, goal, ok, baseline))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in (1, 3, 5) else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _value_text(value: float | None) -> str:
    return "failed" if value is None else _num(value)
