"""Authorisation matrix: every command × every role × every chat kind has a written outcome.

The table below is the specification. Each cell is sent through the real engine and storage;
the test checks the reply, which tables changed, and that an officer never sees the other
unit's figures or lists. A command in the registry (`handlers.commands.REGISTRY`) that the
table does not cover fails `test_every_command_is_in_the_matrix`: add its rows (three chat
kinds) when adding it.

Roles: a stranger; the officers of Xã Bình Long (A) and Xã Bình Thuận (B); the leader; the
admin (config people). Chat kinds: the configured group, a group the config does not know, a
private chat. Buttons send their action as a command text from the presser, so a pressed
button is checked exactly like a typed command.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import messages as msg
from handlers.commands import COMMANDS, REGISTRY
from storage import Database
from storage.models import Base
from tests.conftest import ChatBot

ROLES = ("stranger", "officer_a", "officer_b", "leader", "admin")
CHATS = ("group", "unconfigured", "private")

# Read a row as: `command` sent in `chat` by each role gives these outcomes.
MATRIX = """
command   chat         stranger      officer_a     officer_b     leader        admin
baocao    group        unregistered  stored        not_yours     leader_no     stored
baocao    private      unregistered  stored        not_yours     leader_no     stored
baocao    unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
xacnhan   group        nothing_held  confirmed     nothing_held  nothing_held  nothing_held
xacnhan   private      nothing_held  confirmed     nothing_held  nothing_held  nothing_held
xacnhan   unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
huy       group        nothing_held  cancelled     nothing_held  nothing_held  nothing_held
huy       private      nothing_held  cancelled     nothing_held  nothing_held  nothing_held
huy       unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
mau       group        unregistered  template_a    not_yours     template_a    template_a
mau       private      unregistered  template_a    not_yours     template_a    template_a
mau       unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
trangthai group        unregistered  status_own    status_own    status_all    status_all
trangthai private      unregistered  status_own    status_own    status_all    status_all
trangthai unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
xephang   group        unregistered  rank_own      rank_own      rank_all      rank_all
xephang   private      unregistered  rank_own      rank_own      rank_all      rank_all
xephang   unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
tiendo    group        unregistered  leaders_only  pace_b        pace_b        pace_b
tiendo    private      unregistered  leaders_only  pace_b        pace_b        pace_b
tiendo    unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
lichsu    group        unregistered  leaders_only  history_b     history_b     history_b
lichsu    private      unregistered  leaders_only  history_b     history_b     history_b
lichsu    unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
dangky    group        request_sent  already       already       no_need       no_need
dangky    private      request_sent  already       already       no_need       no_need
dangky    unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
duyet     group        admins_only   admins_only   admins_only   admins_only   approved
duyet     private      admins_only   admins_only   admins_only   admins_only   approved
duyet     unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
thuhoi    group        admins_only   admins_only   admins_only   admins_only   revoked
thuhoi    private      admins_only   admins_only   admins_only   admins_only   revoked
thuhoi    unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
huongdan  group        help          help          help          help          help
huongdan  private      help          help          help          help          help
huongdan  unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
nhacnho   group        unregistered  leaders_only  leaders_only  nudged        nudged_again
nhacnho   private      unregistered  leaders_only  leaders_only  nudged_again  nudged_again
nhacnho   unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
bieudo    group        unregistered  charts_no     charts_no     chart         chart
bieudo    private      unregistered  charts_no     charts_no     chart         chart
bieudo    unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
xuat      group        unregistered  files_no      files_no      exported      exported
xuat      private      unregistered  files_no      files_no      exported      exported
xuat      unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
nhap      group        private_only  private_only  private_only  private_only  private_only
nhap      private      imports_no    imports_no    imports_no    imports_no    import_how
nhap      unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
pheduyet  group        leader_only   leader_only   leader_only   week_approved leader_only
pheduyet  private      leader_only   leader_only   leader_only   approved_before leader_only
pheduyet  unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
mokhoa    group        admins_only   admins_only   admins_only   admins_only   reopened
mokhoa    private      admins_only   admins_only   admins_only   admins_only   reopened
mokhoa    unconfigured unknown_chat  unknown_chat  unknown_chat  unknown_chat  unknown_chat
"""

# What each command is sent with. `{n}` is a counter (so every write is a new one), `{reg}`
# the number of a registration made for the cell. Everything targets unit A or B on purpose.
ARGS = {
    "baocao": (
        "\nĐơn vị: Xã Bình Long\nĐã cấp CCCD: {cccd}\nĐã xác thực ĐDĐT: 5.014\n"
        "Đã kích hoạt ĐDĐT: 4.454\nTrẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
    ),
    "xacnhan": "",
    "huy": "",
    "mau": " Xã Bình Long",
    "trangthai": "",
    "xephang": "",
    "tiendo": " Xã Bình Thuận",
    "lichsu": " Xã Bình Thuận",
    "dangky": " Xã Bình Long",
    "duyet": " {reg}",
    "thuhoi": " {reg}",
    "huongdan": "",
    "nhacnho": "",
    "bieudo": " Xác thực ĐDĐT",
    "xuat": " csv",
    "nhap": "",
    "pheduyet": " 46",
    "mokhoa": " 46 sửa số liệu theo công văn",
}

USERS = {
    "officer_a": "cb_binh_long",
    "officer_b": "cb_binh_thuan",
    "leader": "lanh_dao",
    "admin": "thuong_truc",
}
REPORT_A = (
    "/baocao\nĐã cấp CCCD: 6.358\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.454\n"
    "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)
REPORT_B = (
    "/baocao\nĐã cấp CCCD: 7.913\nĐã xác thực ĐDĐT: 6.021\nĐã kích hoạt ĐDĐT: 5.555\n"
    "Trẻ 6-14 tuổi: 1.234\nĐã cấp Căn cước 6-14 tuổi: 1.111"
)
# Figures only one unit reported: they must never reach the other unit's officer.
FIGURES = {
    "officer_a": ("7.913", "6.021", "5.555", "1.234", "1.111"),
    "officer_b": ("6.358", "5.014", "4.454"),
}
OTHER_UNIT = {"officer_a": "Bình Thuận", "officer_b": "Bình Long"}
STORED_FIGURES = FIGURES["officer_a"] + FIGURES["officer_b"]


@dataclass(frozen=True)
class Outcome:
    check: Callable[[str], bool]
    writes: frozenset[str] = frozenset()  # the tables this outcome changes, exactly
    names_other_unit: bool = False  # a refusal may name the unit it refuses


def _is(expected: str) -> Callable[[str], bool]:
    return lambda answer: answer == expected


def _has(*parts: str) -> Callable[[str], bool]:
    return lambda answer: all(p in answer for p in parts)


OUTCOMES: dict[str, Outcome] = {
    "unknown_chat": Outcome(_is(msg.UNKNOWN_GROUP)),
    "unregistered": Outcome(_is(msg.not_registered())),
    "stored": Outcome(
        lambda a: a.startswith("✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long"),
        frozenset({"submissions", "audit_log"}),
    ),
    "confirmed": Outcome(
        lambda a: a.startswith("✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long"),
        frozenset({"submissions", "audit_log", "pending_reports"}),
    ),
    "not_yours": Outcome(_has("Bạn chỉ được báo cáo cho Xã Bình Thuận"), names_other_unit=True),
    "leader_no": Outcome(_is(msg.leader_cannot_report())),
    "nothing_held": Outcome(_is(msg.NOTHING_TO_CONFIRM)),
    "cancelled": Outcome(_is(msg.PENDING_CANCELLED), frozenset({"pending_reports"})),
    "template_a": Outcome(_has("Xã Bình Long", "Đã cấp CCCD: 6.358")),
    "status_own": Outcome(lambda a: "Đơn vị của bạn — Xã Bình" in a and "✅ Đúng hạn" not in a),
    "status_all": Outcome(_has("✅ Đúng hạn (2): Bình Long, Bình Thuận", "❌ Chưa báo cáo (20)")),
    "rank_own": Outcome(lambda a: ": hạng " in a and "Đơn vị đã hoàn thành" not in a),
    "rank_all": Outcome(_has("Bình Long", "Bình Thuận", "Tổng chung")),
    "leaders_only": Outcome(_is(msg.LEADERS_ONLY)),
    "pace_b": Outcome(_has("Xã Bình Thuận")),
    "history_b": Outcome(_has(msg.history_title("Xã Bình Thuận"))),
    "request_sent": Outcome(
        _has("Đã gửi yêu cầu đăng ký số", "Xã Bình Long"),
        frozenset({"registrations", "audit_log"}),
    ),
    "already": Outcome(_has("Bạn đã được đăng ký là cán bộ báo cáo của Xã Bình")),
    "no_need": Outcome(lambda a: a.endswith("không cần đăng ký.")),
    "admins_only": Outcome(_is(msg.ADMINS_ONLY)),
    # /nhap typed: how to send the file; the file itself is tests/handlers/test_handlers_imports.
    "imports_no": Outcome(_is(msg.IMPORTS_ADMINS_ONLY)),
    "import_how": Outcome(_is(msg.IMPORT_HOW)),
    "private_only": Outcome(_is(msg.wrong_chat("nhap", "group"))),
    "approved": Outcome(
        _has("✅ Đã duyệt", "Xã Bình Long"), frozenset({"registrations", "audit_log"})
    ),
    "revoked": Outcome(
        _has("Đã thu hồi quyền báo cáo", "Xã Bình Long"),
        frozenset({"registrations", "audit_log"}),
    ),
    "help": Outcome(lambda a: a.startswith("🤖 Bot báo cáo Đề án 06")),
    # The first nudge of the hour reaches the 20 units still missing; within the hour the
    # same units are not nudged again (all cells share one clock).
    "nudged": Outcome(_has("🔔 Lãnh đạo nhắc: 20 đơn vị"), frozenset({"nudges"})),
    "nudged_again": Outcome(_has("Đã nhắc trong 60 phút qua, chưa nhắc lại")),
    "charts_no": Outcome(_is(msg.CHARTS_LEADERS_ONLY)),
    "chart": Outcome(_is(msg.chart_caption("Xác thực ĐDĐT", "tuần 47/2024"))),
    "files_no": Outcome(_is(msg.FILES_LEADERS_ONLY)),
    "exported": Outcome(_is(msg.export_caption("csv", "tuần 47/2024"))),
    "leader_only": Outcome(_is(msg.LEADER_APPROVES_ONLY)),
    "week_approved": Outcome(
        _has("✅ Đã phê duyệt số liệu tuần 46/2024 (Nguyễn Tường Duy"),
        frozenset({"week_approvals", "audit_log"}),
    ),
    "approved_before": Outcome(_has("Tuần 46/2024 đã được phê duyệt trước đó")),
    "reopened": Outcome(
        _has("🔓 Đã mở khóa tuần 46/2024 (lý do: sửa số liệu theo công văn)"),
        frozenset({"week_approvals", "audit_log"}),
    ),
}


def _matrix() -> dict[tuple[str, str], dict[str, str]]:
    rows = [line.split() for line in MATRIX.strip().splitlines()]
    header, body = rows[0], rows[1:]
    assert header == ["command", "chat", *ROLES]
    cells = {}
    for row in body:
        assert len(row) == len(header), row
        cells[(row[0], row[1])] = dict(zip(ROLES, row[2:], strict=True))
    return cells


EXPECTED = _matrix()
TABLE_COMMANDS = sorted({command for command, _ in EXPECTED})


def test_every_command_is_in_the_matrix() -> None:
    for command in TABLE_COMMANDS:
        assert command in COMMANDS, f"/{command} is in the matrix but not a command"
        # The matrix names each command by its Vietnamese name, the entry's first.
        assert COMMANDS[command].name == command
        assert {chat for c, chat in EXPECTED if c == command} == set(CHATS), command
    missing = sorted(entry.name for entry in REGISTRY if entry.name not in TABLE_COMMANDS)
    assert not missing, f"add rows to MATRIX for /{', /'.join(missing)}"
    # Every alias is the same entry as its Vietnamese name, so the matrix covers it too.
    for entry in REGISTRY:
        for alias in entry.names:
            assert COMMANDS[alias] is entry, alias
    assert set(COMMANDS) == {alias for entry in REGISTRY for alias in entry.names}
    assert all(o in OUTCOMES for row in EXPECTED.values() for o in row.values())
    assert set(ARGS) == set(TABLE_COMMANDS)


# Bookkeeping written for any message, not data a command changes (the update keys; on
# PostgreSQL the senders' flood counts).
NOT_DATA = frozenset({"processed_updates", "flood_senders"})


async def _snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (a new table is watched without editing this test)."""
    out = {}
    async with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_DATA:
                continue
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in (await connection.execute(query)).all()]
    return out


Setup = Callable[[ChatBot, int], Awaitable[dict[str, object]]]


async def _hold_a_report(chat: ChatBot, n: int) -> dict[str, object]:
    """Officer A has a report waiting for /xacnhan: a cumulative figure lower than last week's."""
    answer = await chat.send("cb_binh_long", REPORT_A.replace("6.358", str(6200 - n)), "rieng")
    assert "/xacnhan" in answer, answer
    return {}


async def _pending_registration(chat: ChatBot, n: int) -> dict[str, object]:
    answer = await chat.send(f"nguoi_moi_{n}", "/dangky Xã Bình Long", "rieng")
    found = re.search(r"đăng ký số (\d+)", answer)
    assert found, answer
    return {"reg": found.group(1)}


async def _approved_person(chat: ChatBot, n: int) -> dict[str, object]:
    values = await _pending_registration(chat, n)
    assert (await chat.send("thuong_truc", f"/duyet {values['reg']}", "rieng")).startswith("✅")
    return values


async def _approved_week(chat: ChatBot, n: int) -> dict[str, object]:
    """Week 46 is approved (again, after the previous cell reopened it)."""
    answer = await chat.send("lanh_dao", "/pheduyet 46", "rieng")
    assert "phê duyệt" in answer, answer
    return {}


SETUPS: dict[str, Setup] = {
    "mokhoa": _approved_week,
    "xacnhan": _hold_a_report,
    "huy": _hold_a_report,
    "duyet": _pending_registration,
    "thuhoi": _approved_person,
}


@pytest.mark.parametrize("command", TABLE_COMMANDS)
async def test_matrix(chat: ChatBot, db: Database, command: str) -> None:
    last_week = REPORT_A.replace("6.358", "6.200") + "\nTuần: 46/2024"
    assert "tuần 46, không phải tuần 47" in await chat.send("cb_binh_long", last_week)
    assert (await chat.send("cb_binh_long", "/xacnhan")).startswith("✅ Đã nhận")
    assert (await chat.send("cb_binh_long", REPORT_A)).startswith("✅ Đã nhận")
    assert (await chat.send("cb_binh_thuan", REPORT_B)).startswith("✅ Đã nhận")
    failures = []
    n = 0
    for kind in CHATS:
        for role in ROLES:
            n += 1
            # Ten seconds a cell: an officer's setup and cell stay well within the flood
            # limit's messages a minute (handlers.flood), and every cell within one hour.
            chat.at(chat.now + timedelta(seconds=10))
            expected = EXPECTED[(command, kind)][role]
            outcome = OUTCOMES[expected]
            user = USERS.get(role, f"nguoi_la_{n}")
            values: dict[str, object] = {"n": n, "cccd": 6358 + n}
            setup = SETUPS.get(command)
            if setup is not None:
                values.update(await setup(chat, n))
            where = {"group": "nhom_bao_cao", "unconfigured": "nhom_la", "private": "rieng"}[kind]
            before = await _snapshot(db)
            sent = "/" + command + ARGS[command].format(**values)
            answer = await chat.send(user, sent, where, "private" if kind == "private" else "group")
            after = await _snapshot(db)
            changed = {table for table in before if before[table] != after[table]}
            problems = []
            if not outcome.check(answer):
                problems.append("unexpected reply")
            if changed != outcome.writes:
                problems.append(f"changed {sorted(changed)}, expected {sorted(outcome.writes)}")
            if role in FIGURES:
                leaked = [f for f in FIGURES[role] if f in answer]
                if leaked:
                    problems.append(f"shows the other unit's figures {leaked}")
                if OTHER_UNIT[role] in answer and not outcome.names_other_unit:
                    problems.append("names the other unit")
            if kind == "unconfigured" and any(f in answer for f in STORED_FIGURES):
                problems.append("figures in an unconfigured group")
            if problems:
                failures.append(f"/{command} {kind} {role} -> {expected}: {problems}\n{answer}")
    assert not failures, "\n\n".join(failures)


async def test_an_officer_approved_through_dangky_is_held_to_their_unit(chat: ChatBot) -> None:
    """The matrix's officers come from the config; one approved through /dangky gets exactly
    the same limits."""
    answer = await chat.send("moi", "/dangky Xã Bình Long", "rieng")
    number = re.search(r"đăng ký số (\d+)", answer)
    assert number, answer
    assert (await chat.send("moi", f"/duyet {number.group(1)}")) == msg.ADMINS_ONLY
    assert (await chat.send("thuong_truc", f"/duyet {number.group(1)}")).startswith("✅ Đã duyệt")
    assert (await chat.send("moi", REPORT_A)).startswith(
        "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long"
    )
    other = REPORT_B.replace("/baocao\n", "/baocao\nĐơn vị: Xã Bình Thuận\n")
    assert "Bạn chỉ được báo cáo cho Xã Bình Long" in await chat.send("moi", other)
    assert await chat.send("moi", "/lichsu Xã Bình Thuận") == msg.LEADERS_ONLY
    assert await chat.send("moi", "/mau Xã Bình Thuận") == msg.not_your_unit(
        "Xã Bình Long", "Xã Bình Thuận"
    )
    assert await chat.send("moi", "/duyet") == msg.ADMINS_ONLY
    status = await chat.send("moi", "/trangthai")
    assert "Đơn vị của bạn — Xã Bình Long: đã báo cáo." in status
    assert "✅ Đúng hạn" not in status
