"""The Vietnamese words of the charts, the Excel workbook and the Word report.

Only render/ uses these; texts a chat reply shows too (column headings, section titles, dates)
stay in core.messages and are imported from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from core.messages import capital, fmt_date, fmt_moment

# --- charts ---------------------------------------------------------------------------------


def chart_window(period: str, start: date, end: date) -> str:
    return f"{capital(period)} · số liệu từ {start:%d/%m} đến {fmt_date(end)}"


def chart_goal(target: str, deadline: date | None) -> str:
    due = f", hạn {fmt_date(deadline)}" if deadline else ""
    return f"chỉ tiêu {target}{due}" if target else ""


def chart_part(number: int, total: int) -> str:
    return f"phần {number}/{total}"


def chart_target(target: str) -> str:
    return f"Chỉ tiêu {target}"


def chart_deadline(deadline: date) -> str:
    return f"Hạn {fmt_date(deadline)}"


CHART_MET = "Đã đạt chỉ tiêu"
CHART_NOT_MET = "Chưa đạt chỉ tiêu"
CHART_NO_TARGET = "Tỉ lệ"
CHART_RATE_AXIS = "Tỉ lệ (%)"
CHART_COUNT_AXIS = "Số lũy kế"
CHART_ACTUAL = "Thực hiện (lũy kế)"
CHART_PLAN = "Cần đạt để kịp hạn"


def chart_trend_title(indicator: str, scope: str) -> str:
    return f"Diễn biến tỉ lệ: {indicator} ({scope})"


def chart_progress_title(indicator: str, scope: str) -> str:
    return f"Tiến độ so với kế hoạch: {indicator} ({scope})"


def chart_heatmap_title(indicator: str) -> str:
    return f"Tỉ lệ từng đơn vị qua các tuần: {indicator}"


def chart_progress_note(
    done: str, goal: str, remaining: str, per_day: str | None, day: str = "ngày"
) -> str:
    need = f", cần {per_day}/{day}" if per_day else ""
    return f"Đã đạt {done}, chỉ tiêu cần {goal} · còn thiếu {remaining}{need}"


def chart_weeks(first: str, last: str) -> str:
    return f"Từ {first} đến {last}"


def chart_milestone(on: date, goal: str) -> str:
    """A milestone's marker on the progress chart: `mốc 31/07: 80.000`."""
    return f"mốc {on.strftime('%d/%m')}: {goal}"


# --- Excel and CSV --------------------------------------------------------------------------

XLSX_RAW_SHEET = "Số liệu gốc"
XLSX_HISTORY_SHEET = "Lịch sử phiên bản"
COL_RATE_FULL = "Đạt tỉ lệ"
COL_CHANGE_FULL = "Thay đổi so với tuần trước (điểm %)"
COL_PERIOD = "Tuần"
COL_VERSION = "Phiên bản"
COL_CURRENT = "Hiện hành"
COL_SENDER = "Người gửi"
COL_SENT_AT = "Thời điểm gửi"
COL_LATE = "Trễ hạn"
COL_WARNINGS = "Cảnh báo"
COL_CORRECTION = "Điều chỉnh sau khóa sổ"
COL_GROUP_TOTAL = "Tổng chung"
YES = "Có"


def sum_of(labels: Sequence[str]) -> str:
    return " + ".join(labels)


# --- the Word report ------------------------------------------------------------------------

DOCX_NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
DOCX_MOTTO = "Độc lập – Tự do – Hạnh phúc"
DOCX_NUMBER = "Số:        /BC-TCTĐA06"
DOCX_KIND = "BÁO CÁO"
DOCX_PART_STATUS = "I. TÌNH HÌNH BÁO CÁO"
DOCX_PART_RESULTS = "II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU"
DOCX_RECIPIENTS_TITLE = "Nơi nhận:"
DOCX_RECIPIENTS = ("- Như trên;", "- Thành viên Tổ Công tác Đề án 06;", "- Lưu: VT.")
DOCX_SIGNER = "THƯỜNG TRỰC TỔ CÔNG TÁC"
DOCX_DRAFT = "Dự thảo do bot lập từ số liệu các đơn vị báo cáo; kiểm tra, chỉnh sửa trước khi ký."
DOCX_NO_RISK = "Theo tốc độ hiện nay, không có đơn vị nào có nguy cơ trễ hạn."


def docx_place_date(place: str, day: date) -> str:
    return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def docx_subject(period: str, due: datetime) -> str:
    return f"Kết quả thực hiện các chỉ tiêu Đề án 06 {period} (số liệu đến {fmt_moment(due)})"


def docx_to(title: str) -> str:
    return f"Kính gửi: Tổ trưởng {title}."


def docx_intro(office: str, period: str) -> str:
    return (
        f"{office} tổng hợp kết quả thực hiện các chỉ tiêu Đề án 06 {period} "
        "từ số liệu lũy kế các đơn vị đã báo cáo, như sau:"
    )


def docx_completeness(on_time: int, late: int, missing: int, total: int) -> str:
    return (
        f"Có {on_time + late}/{total} đơn vị đã báo cáo ({on_time} đúng hạn, {late} trễ hạn); "
        f"{missing} đơn vị chưa báo cáo."
    )


def docx_missing(names: Sequence[str]) -> str:
    return f"Đơn vị chưa báo cáo: {', '.join(names)}."


def docx_late(names: Sequence[str]) -> str:
    return f"Đơn vị báo cáo trễ hạn: {', '.join(names)}."


def docx_indicator(number: int, name: str, goal: str) -> str:
    return f"{number}. {name}" + (f" ({goal})" if goal else "")


def docx_section(number: str, title: str) -> str:
    return f"{number}. Các {title[0].lower()}{title[1:]}"


def docx_at_risk(names: Sequence[str]) -> str:
    return (
        "Theo tốc độ các tuần gần đây, các đơn vị có nguy cơ không đạt chỉ tiêu đúng hạn: "
        f"{', '.join(names)}."
    )
