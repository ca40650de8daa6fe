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


# --- the month's, quarter's and year's report (render/docx.py, render/excel.py) -------------

COL_CHANGE_PERIOD = "Thay đổi trong kỳ (điểm %)"
DOCX_PART_MILESTONES = "Các mốc chỉ tiêu trong kỳ:"
DOCX_NO_MILESTONE = "Trong kỳ không có mốc chỉ tiêu nào đến hạn."
DOCX_ALL_ON_TIME = "Tất cả đơn vị báo cáo đầy đủ, đúng hạn các tuần trong kỳ."
XLSX_MILESTONE_SHEET = "Mốc chỉ tiêu"
XLSX_LATENESS_SHEET = "Tình hình báo cáo"
XLSX_END_SHEET = "Số liệu cuối kỳ"
COL_INDICATOR = "Chỉ tiêu"
COL_MILESTONE = "Mốc"
COL_MILESTONE_DATE = "Đến ngày"
COL_RESULT = "Kết quả"
COL_LATE_WEEKS = "Số tuần trễ hạn"
COL_LATE_LIST = "Các tuần trễ hạn"
COL_MISSING_WEEKS = "Số tuần không báo cáo"
COL_MISSING_LIST = "Các tuần không báo cáo"
MET = "Đạt"
NOT_MET = "Chưa đạt"


def period_subject(period: str, due: datetime) -> str:
    return f"Kết quả thực hiện các chỉ tiêu Đề án 06 {period} (số liệu đến {fmt_moment(due)})"


def period_approved(weeks: int, by: str, at: datetime) -> str:
    """Every reported week of the period approved; `by`, `at`: the latest approval."""
    return f"Đã phê duyệt: số liệu cả {weeks} tuần trong kỳ (lần cuối: {by}, {fmt_moment(at)})"


def period_none_approved(weeks: int) -> str:
    return f"Chưa phê duyệt: cả {weeks} tuần trong kỳ chưa được lãnh đạo phê duyệt"


def period_not_approved(weeks: Sequence[str], reported: int) -> str:
    return f"Chưa phê duyệt: tuần {', '.join(weeks)} ({len(weeks)}/{reported} tuần trong kỳ)"


def period_intro(office: str, period: str, weeks: int, first: str, last: str) -> str:
    span = first if weeks == 1 else f"từ {first} đến {last}"
    return (
        f"{office} tổng hợp kết quả thực hiện các chỉ tiêu Đề án 06 {period} từ số liệu lũy kế "
        f"các đơn vị báo cáo hằng tuần ({weeks} kỳ báo cáo, {span}), như sau:"
    )


def period_completeness(complete: int, total: int, weeks: int) -> str:
    return (
        f"Trong kỳ có {weeks} kỳ báo cáo tuần; {complete}/{total} đơn vị báo cáo đầy đủ, "
        "đúng hạn tất cả các tuần."
    )


def unit_weeks(unit: str, count: int, weeks: int, which: Sequence[str]) -> str:
    """`Xã Bình Long (2/4 tuần: 46, 47)`; a week of another year as `1/2025`."""
    return f"{unit} ({count}/{weeks} tuần: {', '.join(which)})"


def period_late(items: Sequence[str]) -> str:
    return f"Đơn vị báo cáo trễ hạn: {'; '.join(items)}."


def period_missing(items: Sequence[str]) -> str:
    return f"Đơn vị không báo cáo một số tuần: {'; '.join(items)}."


def period_total(due: date, scope: str, done: str, total: str, rate: str, change: str) -> str:
    """`Tính đến 25/11/2024, toàn huyện đạt 105.350/172.378 (61,11%), tăng 5,87 điểm % …`."""
    return f"Tính đến {fmt_date(due)}, {scope} đạt {done}/{total} ({rate}){change}."


def period_change(change: str, since_previous: bool) -> str:
    """`, tăng 5,87 điểm % so với cuối kỳ trước`; empty when there is nothing to compare."""
    since = "so với cuối kỳ trước" if since_previous else "so với tuần đầu kỳ"
    if change.startswith("+"):
        return f", tăng {change[1:]} điểm % {since}"
    if change.startswith("−"):
        return f", giảm {change[1:]} điểm % {since}"
    return f", không đổi {since}"


def period_carried(items: Sequence[str]) -> str:
    return (
        "Số liệu cuối kỳ lấy từ báo cáo gần nhất của đơn vị không báo cáo tuần cuối: "
        f"{'; '.join(items)}."
    )


def carried_from(unit: str, week: str) -> str:
    return f"{unit} ({week})"


def milestone_line(goal: str, on: date, area: str, met: int, missed: Sequence[str]) -> str:
    """`– Mốc 80% đến 31/12/2024: toàn huyện đạt (82,30%); 15 đơn vị đạt; 7 đơn vị chưa
    đạt: Xã A, Xã B.`"""
    parts = [area] if area else []
    if met:
        parts.append(f"{met} đơn vị đạt")
    if missed:
        parts.append(f"{len(missed)} đơn vị chưa đạt: {', '.join(missed)}")
    return f"– Mốc {goal} đến {fmt_date(on)}: {'; '.join(parts)}."


def milestone_area(scope: str, reached: bool, share: str) -> str:
    return f"{scope} {'đạt' if reached else 'chưa đạt'} ({share})"


def milestone_goal_unit(goal: str, unit: str) -> str:
    return f"{goal} của {unit}"
