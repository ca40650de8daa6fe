"""The phone-style corpus: every message in tests/corpus/*.txt sent through the real engine
on SQLite and PostgreSQL, judged by what ends up stored (or not) and by what the bot says.

A file holds cases, each one:

    === name of the case
    header: value          (any number, see `Case`)
    ---
    the message, as the officer typed it

Headers: `from` (person key, default cb_binh_long), `chat` (group / private), `at` (ISO time
the message is sent, default the fixture's Saturday of week 47), `before` (reports stored
first: names in SETUPS, comma-separated), `forwarded: yes`, `edited` (ISO time of the edit:
the message arrives as an edit), `breaks` (crlf / u2028: how its lines are joined),
and one outcome:
`stored` (values: `base`, `base; code=123, …` or `code=123, …`; with `unit` and `period`),
`refused` (reason; `template: no` when no template may come back), `held` (reason; `confirm`
gives the values stored after /xacnhan), `silent: yes` (no answer, nothing stored) or
`unstored: yes` (answered, nothing stored). `says` / `not` (repeatable): text that must /
must not be in the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.chat import Incoming, render_plain
from core.messages import TEMPLATE_INTRO
from tests.conftest import ChatBot

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HERE = Path(__file__).parent
WEEK = "2024-W47"

BASE = {
    "citizen_id_issued": 7082,
    "eid_verified": 5014,
    "eid_activated": 4454,
    "child_6_14_total": 898,
    "child_6_14_issued": 286,
}
BODY = """Đã cấp CCCD: 7.082
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286"""
NON_CASH = """Đối tượng BTXH: 120
BTXH chi trả qua tài khoản: 60
Đối tượng NCC: 40
NCC chi trả qua tài khoản: 10"""
FRIDAY_46 = datetime(2024, 11, 8, 9, 0, tzinfo=TZ)
FRIDAY_45 = datetime(2024, 11, 1, 9, 0, tzinfo=TZ)
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)

# Reports stored before a case: (sender, text, moment).
SETUPS: dict[str, tuple[str, str, datetime]] = {
    "w46": ("cb_binh_long", "/baocao\n" + BODY, FRIDAY_46),
    "w46+nc": ("cb_binh_long", "/baocao\n" + BODY + "\n" + NON_CASH, FRIDAY_46),
    "w45+nc": ("cb_binh_long", "/baocao\n" + BODY + "\n" + NON_CASH, FRIDAY_45),
    "today": ("cb_binh_long", "/baocao\n" + BODY, SATURDAY),
    "today+nc": ("cb_binh_long", "/baocao\n" + BODY + "\n" + NON_CASH, SATURDAY),
    "thuan46": ("cb_binh_thuan", "/baocao\n" + BODY, FRIDAY_46),
    "hoa46": ("thuong_truc", "/baocao\nĐơn vị: Xã Bình Hòa\n" + BODY, FRIDAY_46),
}
# Names the cases may use instead of writing BODY out.
MACROS = {"{BODY}": BODY, "{NONCASH}": NON_CASH}


@dataclass
class Case:
    name: str
    where: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    text: str = ""

    def one(self, name: str, default: str = "") -> str:
        return self.headers.get(name, [default])[-1]


def _load() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(HERE.glob("*.txt")):
        current: Case | None = None
        in_text = False
        body: list[str] = []
        for raw in [*path.read_text(encoding="utf-8").split("\n"), "=== <end>"]:
            if raw.startswith("=== "):
                if current is not None:
                    current.text = "\n".join(body).strip("\n")
                    cases.append(current)
                current, in_text, body = Case(raw[4:].strip(), path.stem), False, []
                continue
            if current is None or (not in_text and (not raw.strip() or raw.startswith("#"))):
                continue
            if in_text:
                body.append(raw)
            elif raw.strip() == "---":
                in_text = True
            else:
                name, _, value = raw.partition(":")
                current.headers.setdefault(name.strip(), []).append(value.strip())
        assert current is not None
        assert current.name == "<end>"
    return cases


CASES = _load()


def _values(spec: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if part == "base":
            out.update(BASE)
        elif part == "noncash":
            out.update({"btxh_total": 120, "btxh_paid": 60, "ncc_total": 40, "ncc_paid": 10})
        elif part:
            code, _, number = part.partition("=")
            out[code.strip()] = int(number)
    return out


def _text(case: Case) -> str:
    text = case.text
    for name, value in MACROS.items():
        text = text.replace(name, value)
    breaks = {"crlf": "\r\n", "u2028": "\u2028", "": "\n"}[case.one("breaks")]
    return text.replace("\n", breaks)


async def _stored(chat: ChatBot, unit: str, period: str) -> dict[str, int] | None:
    async with chat.engine.db.unit_of_work() as uow:
        current = await uow.submissions.current(unit, period)
    return dict(current.values) if current else None


async def _everything(chat: ChatBot) -> list[tuple[str, str, int]]:
    async with chat.engine.db.unit_of_work() as uow:
        found = []
        for period in await uow.submissions.periods_with_reports(10):
            for unit in chat.engine.catalogue.units:
                versions = await uow.submissions.versions(unit.code, period)
                found += [(unit.code, period, v.version) for v in versions]
        return sorted(found)


async def _send(chat: ChatBot, case: Case, user: str, text: str) -> str:
    where = "nhom_bao_cao" if case.one("chat", "group") == "group" else user
    edited = case.one("edited")
    message = Incoming(
        platform="sim",
        chat_id=where,
        chat_type="group" if where == "nhom_bao_cao" else "private",
        user_id=user,
        user_name=user,
        text=text,
        sent_at=chat.now,
        message_id=case.name,
        forwarded=case.one("forwarded") == "yes",
        edited_at=datetime.fromisoformat(edited).replace(tzinfo=TZ) if edited else None,
    )
    replies = await chat.engine.handle(message)
    return "\n\n".join(render_plain(r.blocks) for r in replies)


def test_the_corpus_is_large_and_every_case_has_one_outcome() -> None:
    assert len(CASES) >= 150
    outcomes = {"stored", "refused", "held", "silent", "unstored"}
    for case in CASES:
        assert len(outcomes & set(case.headers)) == 1, case.name
        assert case.text, case.name
    assert len({(c.where, c.name) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.where}: {c.name}" for c in CASES])
async def test_corpus_message(chat: ChatBot, case: Case) -> None:
    for setup in filter(None, (s.strip() for s in case.one("before").split(","))):
        sender, text, moment = SETUPS[setup]
        chat.at(moment)
        assert "✅" in await chat.send(sender, text), setup
    at = case.one("at")
    chat.at(datetime.fromisoformat(at).replace(tzinfo=TZ) if at else SATURDAY)
    user = case.one("from", "cb_binh_long")
    before = await _everything(chat)
    answer = await _send(chat, case, user, _text(case))
    for wanted in case.headers.get("says", []):
        assert wanted in answer, answer
    for unwanted in case.headers.get("not", []):
        assert unwanted not in answer, answer
    if "stored" in case.headers:
        assert "✅" in answer, answer
        unit, period = case.one("unit", "binh_long"), case.one("period", WEEK)
        assert await _stored(chat, unit, period) == _values(case.one("stored")), answer
        return
    assert await _everything(chat) == before, answer  # nothing stored
    if "silent" in case.headers:
        assert answer == ""
    elif "unstored" in case.headers:
        assert answer != ""
    elif "refused" in case.headers:
        assert "CHƯA được nhận" in answer, answer
        assert case.one("refused") in answer, answer
        template = case.one("template", "yes") == "yes"
        assert (TEMPLATE_INTRO in answer) == template, answer
    else:
        assert "CHƯA được lưu" in answer, answer
        assert case.one("held") in answer, answer
        if "confirm" in case.headers:
            assert "✅" in await chat.send(user, "/xacnhan", chat="nhom_bao_cao"), answer
            unit, period = case.one("unit", "binh_long"), case.one("period", WEEK)
            assert await _stored(chat, unit, period) == _values(case.one("confirm"))
