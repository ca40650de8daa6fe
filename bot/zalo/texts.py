"""Texts only the Zalo adapter shows: Zalo reads no photos or stickers, has no inline buttons
and cannot send files."""

from __future__ import annotations

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
    """Polling refused while Zalo delivers to a webhook (Vietnamese, then English for whoever
    reads the logs)."""
    return (
        f"Zalo đang gửi tin cho bot này qua webhook {url} (một tiến trình khác); không chuyển "
        "sang long polling để khỏi lấy mất tin của nó. Đặt PUBLIC_BASE_URL và "
        "ZALO_WEBHOOK_SECRET như các tiến trình kia, hoặc ZALO_TAKE_OVER_WEBHOOK=1 để bỏ webhook "
        f"và nhận tin tại đây / a Zalo webhook is set ({url}): refusing to poll; set "
        "PUBLIC_BASE_URL and ZALO_WEBHOOK_SECRET, or ZALO_TAKE_OVER_WEBHOOK=1 to delete it and "
        "poll here"
    )
