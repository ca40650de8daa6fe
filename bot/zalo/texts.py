"""Texts only the Zalo adapter shows: Zalo reads no photos or stickers, has no inline buttons
and cannot send files."""

from __future__ import annotations

from bot import texts as shared

ZALO_TEXT_ONLY = "Bot chỉ đọc được tin nhắn chữ. Gõ /huongdan để xem các lệnh."

ZALO_BUTTONS_HINT = "Gõ một trong các lệnh sau:"

ZALO_NO_FILES = "Zalo chưa cho bot gửi tệp; xin mở tệp này trên Telegram hoặc hỏi Thường trực."


def zalo_button_line(label: str, action: str) -> str:
    return f"• {action} — {label}"


def forward_card(group: str, after: int) -> str:
    """The top line of a post for a group the bot cannot be in, sent to a leader or admin to
    forward there; `after` messages (pages, photos) follow it."""
    if after:
        return f"📤 Chuyển tiếp tin này và {after} tin ngay sau vào nhóm {group}."
    return f"📤 Chuyển tiếp tin này vào nhóm {group}."


def webhook_in_use(url: str) -> str:
    return shared.webhook_in_use(
        "Zalo",
        url,
        "PUBLIC_BASE_URL và ZALO_WEBHOOK_SECRET",
        "PUBLIC_BASE_URL and ZALO_WEBHOOK_SECRET",
    )
