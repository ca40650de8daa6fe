"""The command registry: /huongdan, the Telegram menus and the button whitelist derive from it.

/huongdan is checked through the real engine: each role's answer names exactly the commands the
registry lets that role use, and keeps every line the role was shown before the registry.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from core import messages as msg
from core.catalogue import Role
from core.submission import Sender
from handlers.commands import BUTTON_COMMANDS, CHATS, COMMANDS, REGISTRY, ROLES, menu
from handlers.context import Actor
from tests.conftest import ChatBot

# Who sends /huongdan for each role, and from where (a stranger has no group of their own).
SENDERS: dict[Role | None, tuple[str, str]] = {
    None: ("nguoi_la", "nguoi_la"),
    Role.OFFICER: ("cb_binh_long", "nhom_bao_cao"),
    Role.LEADER: ("lanh_dao", "nhom_bao_cao"),
    Role.ADMIN: ("thuong_truc", "nhom_bao_cao"),
}

# The /huongdan lines each role was shown before commands were declared in the registry: none
# may go missing (the order may change, and a role may learn of a command it could already use).
COMMON = [
    "/huongdan — hướng dẫn này",
    "/trangthai — đơn vị nào đã báo cáo, chưa báo cáo",
    "/xephang [chỉ tiêu] — bảng xếp hạng theo tỉ lệ",
    "/tiendo [đơn vị] — tiến độ đến hạn chỉ tiêu",
    "/lichsu [đơn vị] — số liệu các tuần gần đây",
]
STAFF = [
    "/bieudo [chỉ tiêu] [đơn vị] [loại] — biểu đồ: xephang, xuhuong, tiendo, nhiet",
    "/xuat [xlsx|csv|docx] [tuần|tháng|quý|năm] — tệp Excel, CSV hoặc dự thảo báo cáo (Word)",
    "/nhacnho [tuần] — nhắc ngay các đơn vị chưa báo cáo (mỗi đơn vị tối đa 1 lần/giờ)",
]
LINES_BEFORE: dict[Role | None, list[str]] = {
    None: [
        "/dangky <tên đơn vị> — đăng ký làm cán bộ báo cáo của đơn vị",
        "/huongdan — hướng dẫn này",
    ],
    Role.OFFICER: [
        "/mau — mẫu báo cáo của đơn vị (điền sẵn số tuần trước)",
        "/baocao — gửi báo cáo: lệnh ở dòng đầu, mỗi dòng sau ghi “tên mục: số liệu”",
        "/xacnhan — xác nhận báo cáo có số lũy kế giảm; /huy — bỏ báo cáo đang chờ",
        *COMMON,
    ],
    Role.LEADER: [*COMMON, *STAFF],
    Role.ADMIN: [
        *COMMON,
        *STAFF,
        # Since closing weeks, /duyet decides correction requests too.
        "/duyet — xem và duyệt yêu cầu đăng ký; /duyet dc<số> [tuchoi] — duyệt hoặc từ "
        "chối điều chỉnh số liệu tuần đã khóa sổ",
        "/baocao — gửi báo cáo thay đơn vị (ghi dòng “Đơn vị: …”)",
    ],
}

# The Telegram menus as they were before the registry, in their order.
MENUS_BEFORE = {
    "private": [
        ("baocao", "Gửi báo cáo tuần (từng mục hoặc dán cả mẫu)"),
        ("mau", "Mẫu báo cáo của đơn vị"),
        ("trangthai", "Đơn vị nào đã/chưa báo cáo"),
        ("xephang", "Bảng xếp hạng theo chỉ tiêu"),
        ("tiendo", "Tiến độ đến hạn chỉ tiêu"),
        ("lichsu", "Số liệu các tuần gần đây"),
        ("xacnhan", "Xác nhận báo cáo đang chờ"),
        ("huy", "Hủy báo cáo đang nhập hoặc đang chờ"),
        ("dangky", "Đăng ký làm cán bộ báo cáo"),
        ("huongdan", "Hướng dẫn sử dụng"),
    ],
    "group": [
        ("baocao", "Gửi báo cáo tuần"),
        ("trangthai", "Đơn vị nào đã/chưa báo cáo"),
        ("xephang", "Bảng xếp hạng theo chỉ tiêu"),
        ("tiendo", "Tiến độ đến hạn chỉ tiêu"),
        ("huongdan", "Hướng dẫn sử dụng"),
    ],
}

COMMAND_WORD = re.compile(r"(?<![\w/])/([a-z]+)")


def _allowed(role: Role | None) -> set[str]:
    return {entry.name for entry in REGISTRY if role in entry.roles}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "stranger"))
async def test_help_names_exactly_the_commands_a_role_may_use(
    chat: ChatBot, role: Role | None
) -> None:
    user, where = SENDERS[role]
    answer = await chat.send(user, "/huongdan", where)
    assert answer.startswith("🤖 Bot báo cáo Đề án 06"), answer
    named = {COMMANDS[word].name for word in COMMAND_WORD.findall(answer) if word in COMMANDS}
    assert named == _allowed(role)
    lines = answer.splitlines()
    missing = [line for line in LINES_BEFORE[role] if line not in lines]
    assert not missing, f"{role}: lost {missing}"


def test_a_role_gets_its_own_line_where_the_text_differs() -> None:
    """Roles allowed a command each get a line; the admin reports for any unit."""
    report = COMMANDS["baocao"]
    officer, admin = report.help_line(Role.OFFICER), report.help_line(Role.ADMIN)
    assert officer is not None
    assert admin is not None
    assert officer != admin
    assert "Đơn vị:" in admin
    assert report.help_line(Role.LEADER) is None
    assert report.help_line(None) is None


@pytest.mark.parametrize("kind", CHATS)
def test_menus_list_only_commands_of_their_chat_kind(kind: str) -> None:
    entries = menu(kind)  # type: ignore[arg-type]
    assert entries == MENUS_BEFORE[kind]
    for name, _ in entries:
        assert kind in COMMANDS[name].chats, name
        assert COMMANDS[name].name == name  # menus show the Vietnamese name
    assert all(name.isascii() and len(name) <= 32 for name, _ in entries)


def test_buttons_may_carry_only_status_nudge_and_week_approval() -> None:
    expected = {"nhacnho", "nudge", "trangthai", "status", "pheduyet", "approveweek"}
    assert frozenset(expected) == BUTTON_COMMANDS


def test_only_report_and_confirm_lose_a_report_on_a_storage_failure() -> None:
    assert {entry.name for entry in REGISTRY if entry.writes} == {"baocao", "xacnhan"}


def test_refusals_by_role() -> None:
    """What the engine answers before a command runs (the matrix checks them end to end)."""

    def actor(role: Role | None) -> Actor:
        return Actor(Sender("sim", "x", "X"), role)

    assert COMMANDS["report"].refusal(actor(Role.LEADER)) == msg.leader_cannot_report()
    assert COMMANDS["report"].refusal(actor(None)) == msg.not_registered()
    assert COMMANDS["chart"].refusal(actor(Role.OFFICER)) == msg.CHARTS_LEADERS_ONLY
    assert COMMANDS["export"].refusal(actor(Role.OFFICER)) == msg.FILES_LEADERS_ONLY
    assert COMMANDS["nudge"].refusal(actor(Role.OFFICER)) == msg.LEADERS_ONLY
    assert COMMANDS["approve"].refusal(actor(None)) == msg.ADMINS_ONLY
    assert COMMANDS["confirm"].refusal(actor(None)) == msg.NOTHING_TO_CONFIRM
    assert COMMANDS["register"].refusal(actor(Role.LEADER)) == "Lãnh đạo không cần đăng ký."


def test_a_name_is_declared_once() -> None:
    names = [name for entry in REGISTRY for name in entry.names]
    assert len(names) == len(set(names))


async def test_a_command_answers_only_in_the_chats_it_is_declared_for(
    chat: ChatBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command serves both kinds today (the matrix); one declared for private chats only
    is refused in a group, before anyone's role is looked at, and still works in private."""
    private_only = replace(COMMANDS["lichsu"], chats=frozenset({"private"}), menu={})
    for name in private_only.names:
        monkeypatch.setitem(COMMANDS, name, private_only)  # type: ignore[arg-type]
    assert await chat.send("lanh_dao", "/lichsu") == msg.wrong_chat("lichsu", "group")
    assert await chat.send("nguoi_la", "/history") == msg.wrong_chat("lichsu", "group")
    answer = await chat.send("lanh_dao", "/lichsu", "rieng", "private")
    assert answer == msg.no_history("toàn huyện")  # config: area = "huyện Bình Sơn"
