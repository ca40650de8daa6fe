"""Reading a report message: `label: value` lines into field values, with every problem named."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core import messages as msg
from core.catalogue import Catalogue
from core.numbers import NumberError, format_int, parse_count
from core.text import clean, label_key

# Long enough for any real report (a dozen fields), short enough that a paste of a novel is refused.
MAX_REPORT_CHARS = 4000
MAX_PROBLEMS_SHOWN = 8

UNIT_LABELS = frozenset(
    {"don vi", "dv", "ten don vi", "xa", "phuong", "thi tran", "xa phuong", "unit"}
)
PERIOD_LABELS = frozenset({"tuan", "ky", "ky bao cao", "tuan bao cao", "period", "week"})

_BULLET = re.compile(r"^[\s\-+•*·▪►>–]+")
_COLON = re.compile(r"^(?P<label>[^:=]+?)\s*[:=]\s*(?P<value>.*)$")
_DASH = re.compile(r"^(?P<label>.+?)\s+[-–]\s*(?P<value>[+\-−–]?\s*[0-9][0-9.,\s]*)$")


@dataclass(frozen=True)
class ParsedReport:
    values: Mapping[str, int]
    unit_text: str | None = None
    period_text: str | None = None
    problems: tuple[str, ...] = ()
    bare_lines: tuple[str, ...] = field(default=())  # lines with no separator, maybe a unit name
    # Every `Đơn vị:` value, in order: more than one different unit means two reports pasted
    # into one message, which must never be stored as one.
    unit_texts: tuple[str, ...] = field(default=())
    # Lines inside the body that start a command (`/baocao` of a second pasted report).
    command_lines: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def split_line(line: str) -> tuple[str, str] | None:
    """`Đã cấp CCCD: 6.352` -> (`Đã cấp CCCD`, `6.352`); `:`, `=` or ` - ` separate."""
    line = _BULLET.sub("", line).strip()
    if m := _COLON.match(line):
        return m["label"].strip(), m["value"].strip()
    if m := _DASH.match(line):
        return m["label"].strip(), m["value"].strip()
    return None


def parse_report(body: str, catalogue: Catalogue) -> ParsedReport:
    if len(body) > MAX_REPORT_CHARS:
        return ParsedReport({}, problems=(msg.report_too_long(MAX_REPORT_CHARS),))
    values: dict[str, int] = {}
    unit_text: str | None = None
    period_text: str | None = None
    problems: list[str] = []
    bare: list[str] = []
    unit_texts: list[str] = []
    commands: list[str] = []
    # A field written twice with different figures: neither is kept, so no template sent back
    # carries a figure the officer never chose between.
    conflicted: set[str] = set()
    for raw in body.splitlines():
        line = clean(raw)
        if not line:
            continue
        if line.startswith("/"):
            commands.append(line)
            continue
        pair = split_line(line)
        if pair is None:
            bare.append(_BULLET.sub("", line).strip())
            continue
        label, value = pair
        k = label_key(label)
        if k in UNIT_LABELS:
            unit_text = value
            unit_texts.append(value)
            continue
        if k in PERIOD_LABELS:
            period_text = value
            continue
        code = catalogue.field_for_label(label)
        if code is not None and not value:
            continue  # a blank line of a copied template: not given
        if code is None:
            problems.append(msg.unknown_label(label, catalogue.suggest_labels(label)))
            continue
        try:
            number = parse_count(value)
        except NumberError as exc:
            problems.append(msg.bad_value(catalogue.field(code).label, exc.reason))
            continue
        if code in conflicted:
            continue
        if code in values and values[code] != number:
            problems.append(
                msg.duplicate_field(
                    catalogue.field(code).label, format_int(values.pop(code)), format_int(number)
                )
            )
            conflicted.add(code)
            continue
        values[code] = number
    if len(problems) > MAX_PROBLEMS_SHOWN:
        hidden = len(problems) - MAX_PROBLEMS_SHOWN
        problems = [*problems[:MAX_PROBLEMS_SHOWN], msg.more_problems(hidden)]
    return ParsedReport(
        values,
        unit_text,
        period_text,
        tuple(problems),
        tuple(bare),
        tuple(unit_texts),
        tuple(commands),
    )
