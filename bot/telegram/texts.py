"""Texts only the Telegram adapter shows: its inline buttons and the step-by-step form."""

from __future__ import annotations

FORM_CANCELLED = "Đã hủy báo cáo đang nhập; chưa có gì được lưu."

BUTTON_NOT_YOURS = "Nút này không dành cho bạn."

BUTTON_DONE = "Đã nhận."

ANONYMOUS_ADMIN = (
    "Bạn đang nhắn ẩn danh với tư cách quản trị viên nhóm, nên bot không biết bạn là ai. "
    "Hãy tắt “Ẩn danh” trong quyền quản trị của mình, hoặc nhắn riêng cho bot."
)
