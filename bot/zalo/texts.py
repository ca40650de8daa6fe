"""Texts only the Zalo adapter shows: Zalo reads no photos or stickers, has no inline buttons
and cannot send files."""

from __future__ import annotations

ZALO_TEXT_ONLY = "Bot chỉ đọc được tin nhắn chữ. Gõ /huongdan để xem các lệnh."

ZALO_BUTTONS_HINT = "Gõ một trong các lệnh sau:"

ZALO_NO_FILES = "Zalo chưa cho bot gửi tệp; xin mở tệp này trên Telegram hoặc hỏi Thường trực."


def zalo_button_line(label: str, action: str) -> str:
    return f"• {action} — {label}"
