"""Texts only the Telegram adapter shows: its inline buttons and the step-by-step form."""

from __future__ import annotations

FORM_CANCELLED = "Đã hủy báo cáo đang nhập; chưa có gì được lưu."

BUTTON_NOT_YOURS = "Nút này không dành cho bạn."

BUTTON_DONE = "Đã nhận."
