"""Texts the command line (`python -m bot export`, `backup`, `migrate`), the settings check
and the start-up of either chat adapter print."""

from __future__ import annotations


def export_bad_period(text: str) -> str:
    return f"Lỗi: “{text}” không phải một tuần, ví dụ 2024-W45 hoặc 45/2024."


def import_unreadable(path: str, reason: str) -> str:
    return f"Không đọc được tệp {path}: {reason}"


def export_bad_report_period(kind: str, text: str) -> str:
    example = {"month": "tháng, ví dụ 2024-11", "quarter": "quý, ví dụ 2024-Q4"}
    return f"Lỗi: “{text}” không phải một {example.get(kind, 'năm, ví dụ 2024')}."


def backup_done(path: str, reports: int, size: int) -> str:
    return f"Đã sao lưu {reports} phiên bản báo cáo vào {path} ({size} byte)."


SETTING_EMPTY = "không được để trống"


def env_file_not_utf8(path: str) -> str:
    return f"{path}: tệp không phải văn bản UTF-8"


def env_file_bad_line(path: str, line: int) -> str:
    return f"{path}: dòng {line} không đúng dạng TÊN=giá trị"


def migrated(revision: str) -> str:
    return f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({revision})."


def webhook_in_use(platform: str, url: str, settings_vi: str, settings_en: str) -> str:
    """Polling refused while another process receives `platform`'s updates by webhook
    (Vietnamese, then English for whoever reads the logs); `settings_*` name the webhook
    settings the other processes use. `{PLATFORM}_TAKE_OVER_WEBHOOK=1` takes over."""
    take_over = f"{platform.upper()}_TAKE_OVER_WEBHOOK=1"
    return (
        f"{platform} đang gửi tin cho bot này qua webhook {url} (một tiến trình khác); "
        f"không chuyển sang long polling để khỏi lấy mất tin của nó. Đặt {settings_vi} như các "
        f"tiến trình kia, hoặc {take_over} để bỏ webhook và nhận tin tại đây / "
        f"a webhook is set ({url}): refusing to poll; set {settings_en}, or "
        f"{take_over} to delete it and poll here"
    )


LEASE_RENEW_TOO_SLOW = (
    "LEASE_RENEW_SECONDS phải không quá một phần ba LEASE_TTL_SECONDS (mặc định 10 và 30 giây)"
)


def poller_elsewhere(platform: str, token_setting: str) -> str:
    """Start-up refused: another live process holds the polling lease of this bot token."""
    return (
        f"một tiến trình khác đang nhận tin của bot này ({platform}, long polling bằng cùng "
        f"{token_setting}); mỗi token chỉ một tiến trình được polling. Hãy dừng tiến trình kia "
        f"hoặc dùng webhook / another process is polling {platform} with this token (its "
        f"lease is being renewed); not starting"
    )


def poller_lost(platform: str) -> str:
    """A running poller found its polling lease taken by another process."""
    return (
        f"một tiến trình khác đã nhận việc polling {platform} của bot này (tiến trình này "
        f"không gia hạn được quyền polling kịp thời); dừng lại để khỏi nhận tin hai nơi / "
        f"another process took over polling {platform} with this token; stopping"
    )


def poll_lease_unchecked(platform: str, detail: str) -> str:
    return (
        f"không kiểm tra được trong cơ sở dữ liệu rằng chưa tiến trình nào khác polling "
        f"{platform} bằng token này ({detail})"
    )
