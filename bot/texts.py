"""Texts the command line (`python -m bot export`, `backup`, `migrate`) and the settings
check print."""

from __future__ import annotations


def export_bad_period(text: str) -> str:
    return f"Lỗi: “{text}” không phải một tuần, ví dụ 2024-W45 hoặc 45/2024."


def backup_done(path: str, reports: int, size: int) -> str:
    return f"Đã sao lưu {reports} phiên bản báo cáo vào {path} ({size} byte)."


SETTING_EMPTY = "không được để trống"


def env_file_not_utf8(path: str) -> str:
    return f"{path}: tệp không phải văn bản UTF-8"


def env_file_bad_line(path: str, line: int) -> str:
    return f"{path}: dòng {line} không đúng dạng TÊN=giá trị"


def migrated(revision: str) -> str:
    return f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({revision})."
