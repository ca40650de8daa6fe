"""Every chat command, declared once (after errbot's `@botcmd`).

A `Command` entry carries everything the rest of the bot needs to know about a command: its
names, who may use it and what everyone else is told, whether a storage failure loses a
report, the chats it belongs to, its Telegram menu descriptions, its `/huongdan` lines and
whether a button may send it. The engine's lookup and access check, the storage-failure
wording, the Telegram menus, the button whitelist and `/huongdan` all derive from `REGISTRY`.

The access check is about *who* may use a command at all; which data a permitted officer may
see (their own unit only) stays in the commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from core import messages as msg
from core.catalogue import Role
from core.chat import ChatType, Reply
from handlers import closing, files, imports, people, registration, reminders, reports, views
from handlers import help as help_cmd
from handlers.context import Actor, Request

Run = Callable[[Request], Awaitable[list[Reply]]]
# What someone the command is not for is told; a stranger is an actor whose role is None.
Refuse = Callable[[Actor], str]

OFFICER, LEADER, ADMIN = Role.OFFICER, Role.LEADER, Role.ADMIN
STRANGER = None
REGISTERED = frozenset({OFFICER, LEADER, ADMIN})
STAFF = frozenset({LEADER, ADMIN})
ROLES: tuple[Role | None, ...] = (STRANGER, OFFICER, LEADER, ADMIN)
CHATS: tuple[ChatType, ...] = ("private", "group")


def refuse(others: str, stranger: str | None = None) -> Refuse:
    """`others` for a registered person the command is not for; a stranger is told how to
    register unless `stranger` says otherwise."""

    def text(actor: Actor) -> str:
        if actor.role is None:
            return msg.not_registered() if stranger is None else stranger
        return others

    return text


def _registered_already(actor: Actor) -> str:
    if actor.unit is not None:
        return msg.registered_already(actor.unit.name)
    return msg.no_need_to_register(msg.ROLE_NAMES[actor.role.value if actor.role else None])


@dataclass(frozen=True)
class HelpLine:
    """One `/huongdan` line; `roles` None: every role that may use the command."""

    text: str
    roles: frozenset[Role | None] | None = None


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]  # the Vietnamese name first, then ASCII aliases
    run: Run
    roles: frozenset[Role | None]  # who may use it; STRANGER (None) for the unregistered
    refusal: Refuse = field(default_factory=lambda: refuse(msg.LEADERS_ONLY))
    # A storage failure here means the sender's report was NOT saved, and says so.
    writes: bool = False
    chats: frozenset[ChatType] = frozenset(CHATS)  # elsewhere the engine answers `wrong_chat`
    menu: Mapping[ChatType, str] = field(default_factory=dict)  # Telegram menu descriptions
    help: tuple[HelpLine, ...] = ()
    # An inline button may carry it (the presser is then checked like a typist).
    button: bool = False
    # In a chat scoped to some units (`[chats.KEY] areas`, `units`) it sees only those.
    scoped: bool = False

    @property
    def name(self) -> str:
        return self.names[0]

    def allows(self, actor: Actor) -> bool:
        return actor.role in self.roles

    def help_line(self, role: Role | None) -> str | None:
        if role not in self.roles:
            return None
        for line in self.help:
            if line.roles is None or role in line.roles:
                return line.text
        return None

    def __post_init__(self) -> None:
        if not set(self.menu) <= self.chats:
            raise ValueError(f"/{self.name} has a menu entry in a chat it does not belong to")
        for line in self.help:
            if line.roles is not None and not line.roles <= self.roles:
                raise ValueError(f"/{self.name} has a help line for a role it refuses")


_NOTHING_HELD = refuse(msg.NOTHING_TO_CONFIRM, stranger=msg.NOTHING_TO_CONFIRM)

# The order is the order of the Telegram menus (most used first: what an officer does every
# week, then what leaders read) and of the lines of /huongdan; /huongdan itself comes last.
REGISTRY: tuple[Command, ...] = (
    Command(
        ("baocao", "report"),
        reports.report,
        frozenset({OFFICER, ADMIN}),
        refuse(msg.leader_cannot_report()),
        writes=True,
        menu={
            "private": "Gửi báo cáo tuần (từng mục hoặc dán cả mẫu)",
            "group": "Gửi báo cáo tuần",
        },
        help=(
            HelpLine(
                "/baocao — gửi báo cáo: lệnh ở dòng đầu, mỗi dòng sau ghi “tên mục: số liệu”",
                frozenset({OFFICER}),
            ),
            HelpLine(
                "/baocao — gửi báo cáo thay đơn vị (ghi dòng “Đơn vị: …”)", frozenset({ADMIN})
            ),
        ),
    ),
    Command(
        ("mau", "template"),
        reports.template,
        REGISTERED,
        menu={"private": "Mẫu báo cáo của đơn vị"},
        help=(
            HelpLine(
                "/mau — mẫu báo cáo của đơn vị (điền sẵn số tuần trước)", frozenset({OFFICER})
            ),
            HelpLine("/mau [đơn vị] — mẫu báo cáo của một đơn vị (điền sẵn số tuần trước)"),
        ),
    ),
    Command(
        ("trangthai", "status"),
        views.status,
        REGISTERED,
        menu={"private": "Đơn vị nào đã/chưa báo cáo", "group": "Đơn vị nào đã/chưa báo cáo"},
        help=(HelpLine("/trangthai — đơn vị nào đã báo cáo, chưa báo cáo"),),
        button=True,  # read-only, so a stale or forwarded button does no harm
        scoped=True,
    ),
    Command(
        ("xephang", "rank"),
        views.ranking,
        REGISTERED,
        menu={"private": "Bảng xếp hạng theo chỉ tiêu", "group": "Bảng xếp hạng theo chỉ tiêu"},
        help=(HelpLine("/xephang [chỉ tiêu] — bảng xếp hạng theo tỉ lệ"),),
        scoped=True,
    ),
    Command(
        ("tiendo", "pace"),
        views.pace,
        REGISTERED,
        menu={"private": "Tiến độ đến hạn chỉ tiêu", "group": "Tiến độ đến hạn chỉ tiêu"},
        help=(HelpLine("/tiendo [đơn vị] — tiến độ đến hạn chỉ tiêu"),),
        scoped=True,
    ),
    Command(
        ("lichsu", "history"),
        views.history,
        REGISTERED,
        menu={"private": "Số liệu các tuần gần đây"},
        help=(HelpLine("/lichsu [đơn vị] — số liệu các tuần gần đây"),),
        scoped=True,
    ),
    Command(
        ("bieudo", "chart"),
        files.chart,
        STAFF,
        refuse(msg.CHARTS_LEADERS_ONLY),
        help=(
            HelpLine(
                "/bieudo [chỉ tiêu] [đơn vị] [loại] — biểu đồ: xephang, xuhuong, tiendo, nhiet"
            ),
        ),
        scoped=True,
    ),
    Command(
        ("xuat", "export"),
        files.export,
        STAFF,
        refuse(msg.FILES_LEADERS_ONLY),
        help=(
            HelpLine(
                "/xuat [xlsx|csv|docx] [tuần|tháng|quý|năm] — "
                "tệp Excel, CSV hoặc dự thảo báo cáo (Word)"
            ),
        ),
        scoped=True,
    ),
    Command(
        ("nhacnho", "nudge"),
        reminders.nudge,
        STAFF,
        help=(
            HelpLine(
                "/nhacnho [tuần] — nhắc ngay các đơn vị chưa báo cáo (mỗi đơn vị tối đa 1 lần/giờ)"
            ),
        ),
        button=True,  # /trangthai's "Nhắc đơn vị chưa báo cáo"
        scoped=True,
    ),
    Command(
        ("xacnhan", "confirm"),
        imports.confirm_held,
        frozenset({OFFICER, ADMIN}),  # those who report are those who may hold one
        _NOTHING_HELD,
        writes=True,
        menu={"private": "Xác nhận báo cáo đang chờ"},
        # One line for both: /huy is the other answer to the same question.
        help=(
            HelpLine(
                "/xacnhan — xác nhận báo cáo có số lũy kế giảm hoặc tệp nhập số liệu; /huy — bỏ "
                "báo cáo hoặc tệp đang chờ",
                frozenset({ADMIN}),
            ),
            HelpLine("/xacnhan — xác nhận báo cáo có số lũy kế giảm; /huy — bỏ báo cáo đang chờ"),
        ),
    ),
    Command(
        ("huy", "cancel"),
        imports.cancel_held,
        frozenset({OFFICER, ADMIN}),
        _NOTHING_HELD,
        menu={"private": "Hủy báo cáo đang nhập hoặc đang chờ"},
        # Listed on /xacnhan's line.
    ),
    Command(
        ("dangky", "register"),
        registration.register,
        frozenset({STRANGER}),
        _registered_already,
        menu={"private": "Đăng ký làm cán bộ báo cáo"},
        help=(HelpLine("/dangky <tên đơn vị> — đăng ký làm cán bộ báo cáo của đơn vị"),),
    ),
    Command(
        ("duyet", "approve"),
        registration.approve,
        frozenset({ADMIN}),
        refuse(msg.ADMINS_ONLY, stranger=msg.ADMINS_ONLY),
        help=(
            HelpLine(
                "/duyet — xem và duyệt yêu cầu đăng ký; /duyet dc<số> [tuchoi] — duyệt hoặc từ "
                "chối điều chỉnh số liệu tuần đã khóa sổ"
            ),
        ),
    ),
    Command(
        ("pheduyet", "approveweek"),
        closing.approve_week,
        frozenset({LEADER}),
        refuse(msg.LEADER_APPROVES_ONLY, stranger=msg.LEADER_APPROVES_ONLY),
        help=(
            HelpLine(
                "/pheduyet [tuần] — phê duyệt số liệu tuần (mặc định tuần vừa qua hạn); "
                "sau đó số liệu là chính thức"
            ),
        ),
        button=True,  # /trangthai's "Phê duyệt tuần" for a closed week
    ),
    Command(
        ("mokhoa", "reopen"),
        closing.reopen_week,
        frozenset({ADMIN}),
        refuse(msg.ADMINS_ONLY, stranger=msg.ADMINS_ONLY),
        help=(HelpLine("/mokhoa <tuần> <lý do> — mở khóa tuần đã phê duyệt để điều chỉnh"),),
    ),
    Command(
        ("thuhoi", "revoke"),
        people.revoke,
        frozenset({ADMIN}),
        refuse(msg.ADMINS_ONLY, stranger=msg.ADMINS_ONLY),
        help=(
            HelpLine(
                "/thuhoi [số|tên] [tamdung|molai] — xem người đã duyệt; thu hồi, tạm dừng "
                "hoặc mở lại quyền báo cáo"
            ),
        ),
    ),
    Command(
        # Also what a file sent in a private chat runs (handlers/engine.py).
        ("nhap", "import"),
        imports.upload,
        frozenset({ADMIN}),
        refuse(msg.IMPORTS_ADMINS_ONLY, stranger=msg.IMPORTS_ADMINS_ONLY),
        chats=frozenset({"private"}),
        help=(
            HelpLine(
                "/nhap — nhập số liệu cũ từ tệp Excel: gửi tệp .xlsx vào chat riêng với bot, "
                "xem trước rồi /xacnhan"
            ),
        ),
    ),
    Command(
        ("huongdan", "help", "start"),
        help_cmd.help_,
        frozenset(ROLES),
        menu={"private": "Hướng dẫn sử dụng", "group": "Hướng dẫn sử dụng"},
        help=(HelpLine("/huongdan — hướng dẫn này"),),
    ),
)


def _by_name(registry: Iterable[Command]) -> dict[str, Command]:
    out: dict[str, Command] = {}
    for command in registry:
        for name in command.names:
            if name in out:
                raise ValueError(f"/{name} is declared twice")
            out[name] = command
    return out


# Every name and alias -> its entry.
COMMANDS: Mapping[str, Command] = _by_name(REGISTRY)
# The commands an inline button may send, by every name.
BUTTON_COMMANDS = frozenset(name for c in REGISTRY if c.button for name in c.names)


def lookup(name: str) -> Command | None:
    return COMMANDS.get(name)


def menu(chat: ChatType) -> list[tuple[str, str]]:
    """The Telegram menu of a chat kind: (command, description), in the registry's order."""
    return [
        (c.name, c.menu[chat]) for c in REGISTRY if chat in c.chats and c.menu.get(chat) is not None
    ]


def help_lines(role: Role | None) -> list[str]:
    """The `/huongdan` lines of a role: one per command it may use, in the registry's order."""
    lines = [c.help_line(role) for c in REGISTRY]
    return [line for line in lines if line is not None]
