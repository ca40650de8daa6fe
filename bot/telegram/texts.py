"""Texts only the Telegram adapter shows: its inline buttons, the step-by-step form, and its
refusals to start."""

from __future__ import annotations

from bot import texts as shared

FORM_CANCELLED = "Đã hủy báo cáo đang nhập; chưa có gì được lưu."

BUTTON_NOT_YOURS = "Nút này không dành cho bạn."

BUTTON_DONE = "Đã nhận."

ANONYMOUS_ADMIN = (
    "Bạn đang nhắn ẩn danh với tư cách quản trị viên nhóm, nên bot không biết bạn là ai. "
    "Hãy tắt “Ẩn danh” trong quyền quản trị của mình, hoặc nhắn riêng cho bot."
)


def webhook_in_use(url: str) -> str:
    return shared.webhook_in_use("Telegram", url, "WEBHOOK_URL", "WEBHOOK_URL")


def second_poller() -> str:
    return (
        "Một tiến trình khác đang nhận tin (long polling) bằng cùng TELEGRAM_BOT_TOKEN; mỗi "
        "token chỉ một tiến trình được polling, hãy dừng tiến trình kia hoặc dùng WEBHOOK_URL / "
        "another process is polling with this token (Telegram 409 Conflict); stopping"
    )
