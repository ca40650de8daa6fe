"""Texts only the Telegram adapter shows: its inline buttons, the step-by-step form, and its
refusals to start."""

from __future__ import annotations

FORM_CANCELLED = "Đã hủy báo cáo đang nhập; chưa có gì được lưu."

BUTTON_NOT_YOURS = "Nút này không dành cho bạn."

BUTTON_DONE = "Đã nhận."

ANONYMOUS_ADMIN = (
    "Bạn đang nhắn ẩn danh với tư cách quản trị viên nhóm, nên bot không biết bạn là ai. "
    "Hãy tắt “Ẩn danh” trong quyền quản trị của mình, hoặc nhắn riêng cho bot."
)


def webhook_in_use(url: str) -> str:
    """Polling refused while another process receives by webhook (Vietnamese, then English
    for whoever reads the logs)."""
    return (
        f"Telegram đang gửi tin cho bot này qua webhook {url} (một tiến trình khác); "
        "không chuyển sang long polling để khỏi lấy mất tin của nó. Đặt WEBHOOK_URL như các "
        "tiến trình kia, hoặc TELEGRAM_TAKE_OVER_WEBHOOK=1 để bỏ webhook và nhận tin tại đây / "
        f"a webhook is set ({url}): refusing to poll; set WEBHOOK_URL, or "
        "TELEGRAM_TAKE_OVER_WEBHOOK=1 to delete it and poll here"
    )


def second_poller() -> str:
    return (
        "Một tiến trình khác đang nhận tin (long polling) bằng cùng TELEGRAM_BOT_TOKEN; mỗi "
        "token chỉ một tiến trình được polling, hãy dừng tiến trình kia hoặc dùng WEBHOOK_URL / "
        "another process is polling with this token (Telegram 409 Conflict); stopping"
    )
