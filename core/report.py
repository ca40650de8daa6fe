"""Reading a report message: `label: value` lines into field values, with every problem named."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core import messages as msg
from core.catalogue import Catalogue
from core.numbers import NumberError, format_int, parse_count
from core.text import clean, key, label_key

# Long enough for any real report (a dozen fields), short enough that a paste of a novel is refused.
MAX_REPORT_CHARS = 4000
MAX_PROBLEMS_SHOWN = 8

UNIT_LABELS = frozenset(
    {"don vi", "dv", "ten don vi", "xa", "phuong", "thi tran", "xa phuong", "unit"}
)
PERIOD_LABELS = frozenset({"tuan", "ky", "ky bao cao", "tuan bao cao", "period", "week"})

# `/baocao`, `/bao cao`, `/báo cáo`, `/Báo_cáo`: one command however the phone typed it.
REPORT_HEAD = re.compile(r"^/\s?b[aáàạ]o[\s_]?c[aáàạ]o(?=[\s@:]|$)", re.IGNORECASE)
_BULLET = re.compile(r"^[\s\-+•*·▪►>–—]+")
# `1. `, `2) `, `a) `, `b. `, `(3) `, `II. `: numbering officers put before a field line.
_NUMBERING = re.compile(r"^\(?(?:[0-9]{1,2}|[a-zđ]|[ivx]{1,4})[.)]\s*(?=[^\W\d])", re.I)
_COLON = re.compile(r"^(?P<label>[^:=]+?)\s*[:=]\s*(?P<value>.*)$")
_DASH = re.compile(r"^(?P<label>.+?)\s+[-–—]\s*(?P<value>[+\-−–]?\s*[0-9][0-9.,\s]*)$")
# Where a number may start in a line without a separator: `Đã cấp CCCD 13112`.
_NUMBER_START = re.compile(r"\s(?=\+?[0-9])")
_REMARK = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_TRAILING = re.compile(r"[\s.;,:!?…]+$")
_LAST_DIGIT = re.compile(r"^(?P<number>.*[0-9])(?P<words>[^0-9]*)$")
# Words officers write after a count (`12 446 người`, `491 tài khoản`): they name what was
# counted, never change the number. Anything else after a number (`7 nghìn`) is not read.
COUNT_WORDS = frozenset(
    {
        "nguoi", "cong dan", "nguoi dan", "tai khoan", "tk", "the", "tre", "chau", "em",
        "doi tuong", "dt", "ho so", "phieu", "truong hop", "th", "luot", "ho", "ca nhan",
        "cccd", "the cccd", "can cuoc", "tai khoan dddt", "tai khoan ddđt", "nguoi lao dong",
    }
)  # fmt: skip
# Lines around a report that carry no figure: a desktop copy's `Lê Thị Lan, [11.11.24 08:30]`,
# a date, a phone number, the sender's name.
_DESKTOP_HEADER = re.compile(r"^[^\[\]]{1,80},\s*\[[0-9.:/,\s-]+\]$")
_DATE = re.compile(r"^(?:ngay\s*)?[0-9]{1,2}\s*[/.-]\s*[0-9]{1,2}(?:\s*[/.-]\s*[0-9]{2,4})?$")
_HEADER_WEEK = re.compile(
    r"\btuan\s*(?:so\s*)?(?P<week>[0-9]{1,2})(?:\s*[/-]\s*(?P<year>[0-9]{4}))?\b"
)
CHATTER_LABELS = frozenset(
    {
        "ngay", "ngay bao cao", "nguoi bao cao", "nguoi gui", "can bo", "ho ten", "ho va ten",
        "sdt", "dt", "dien thoai", "so dien thoai", "ghi chu", "luu y", "thoi gian", "gio",
    }
)  # fmt: skip


def number_text(value: str) -> str:
    """The count in a value as typed: `13112.` -> `13112`, `12 446 người` -> `12 446`,
    `491 (tăng 12)` -> `491`; a value with other words after its number is left as it is,
    for `parse_count` to refuse with its reason."""
    text = _TRAILING.sub("", _REMARK.sub("", value)).strip()
    m = _LAST_DIGIT.match(text)
    if m is None:
        return text or value.strip()
    words = label_key(m["words"])
    if words and words not in COUNT_WORDS:
        return text
    return _TRAILING.sub("", m["number"]).strip()


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
    # Lines read as no part of the report (greetings, dates, a copy's header), to be listed.
    ignored: tuple[str, ...] = field(default=())
    # A heading naming a week (`Báo cáo tuần 46`): its line, week and year if written.
    header_week: tuple[str, int, int | None] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def header_week(line: str) -> tuple[int, int | None] | None:
    """`Báo cáo tuần 47` -> (47, None), `BÁO CÁO TUẦN 46/2024` -> (46, 2024): a heading that
    names a week and holds no other figure."""
    k = key(line)
    m = _HEADER_WEEK.search(k)
    if m is None or re.search(r"[0-9]", k[: m.start()] + k[m.end() :]):
        return None
    return int(m["week"]), int(m["year"]) if m["year"] else None


def is_chatter(line: str) -> bool:
    """A line that is no field even though it holds digits: a copy header, a date, a week."""
    if _DESKTOP_HEADER.match(line) or header_week(line) is not None:
        return True
    return bool(_DATE.match(re.sub(r"[^\w/.\-]+", " ", key(line)).strip()))


def _field_of(label: str, catalogue: Catalogue) -> str | None:
    """The field a label names, also with a remark in brackets (`Đã cấp CCCD (người)`)."""
    code = catalogue.field_for_label(label)
    if code is None and _REMARK.search(label):
        code = catalogue.field_for_label(_REMARK.sub("", label))
    return code


def read_line(line: str, catalogue: Catalogue) -> tuple[str, str, str | None] | None:
    """(label, value, field code) of a field line in any of the ways officers write one:
    `1. Đã cấp CCCD: 13112`, `Đã cấp CCCD = 13112`, `Đã cấp CCCD - 13112`,
    `Đã cấp CCCD 13112`; None for a line with no separator and no known label."""
    pair = split_line(line)
    if pair is not None:
        return pair[0], pair[1], _field_of(pair[0], catalogue)
    text = _NUMBERING.sub("", _BULLET.sub("", line).strip())
    # No separator: the label is what comes before the last place a number can start
    # that leaves a known label (`Trẻ 6-14 tuổi 898`, `Đã cấp CCCD 12 446 người`).
    for m in reversed(list(_NUMBER_START.finditer(text))):
        code = _field_of(text[: m.start()], catalogue)
        if code is not None:
            return text[: m.start()].strip(), text[m.end() :].strip(), code
    return None


def split_line(line: str) -> tuple[str, str] | None:
    """`Đã cấp CCCD: 6.352` -> (`Đã cấp CCCD`, `6.352`); `:`, `=` or ` - ` separate."""
    line = _NUMBERING.sub("", _BULLET.sub("", line).strip())
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
    ignored: list[str] = []
    header: tuple[str, int, int | None] | None = None
    for raw in body.splitlines():
        line = clean(raw)
        if not line:
            continue
        if line.startswith("/"):
            commands.append(line)
            continue
        read = read_line(line, catalogue)
        # A known field is read whatever it holds; only then can a line be a date or heading.
        if (read is None or read[2] is None) and is_chatter(line):
            week = header_week(line)
            if week is not None and header is None:
                header = (line, *week)
            ignored.append(line)
            continue
        if read is None:
            bare.append(_NUMBERING.sub("", _BULLET.sub("", line).strip()))
            continue
        label, value, code = read
        k = label_key(label)
        if k in UNIT_LABELS:
            unit_text = value
            unit_texts.append(value)
            continue
        if k in PERIOD_LABELS:
            period_text = value
            continue
        if code is not None and not value:
            continue  # a blank line of a copied template: not given
        if code is None:
            if k in CHATTER_LABELS:
                ignored.append(line)
            elif not any(ch.isdigit() for ch in value):
                # `Dạ xã Bình Châu báo cáo:`, `Người báo cáo: Lê Thị Lan`: no figure to lose;
                # a unit it names is still looked for.
                bare.append(line)
            else:
                problems.append(msg.unknown_label(label, catalogue.suggest_labels(label)))
            continue
        try:
            number = parse_count(number_text(value))
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
        tuple(ignored),
        header,
    )
