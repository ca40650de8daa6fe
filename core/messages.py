"""The Vietnamese sentences of the chat replies (core/ and handlers/), reviewed together.

Texts only one outer layer shows live beside it: render/texts.py (charts, Excel, Word),
bot/telegram/texts.py, bot/zalo/texts.py, bot/texts.py (CLI, settings) and storage/backup.py.
A text two layers show stays here, so the lower layer can import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime


def fmt_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def fmt_moment(moment: datetime) -> str:
    return moment.strftime("%H:%M %d/%m/%Y")


def _join(items: Sequence[str]) -> str:
    return ", ".join(items)


# --- numbers --------------------------------------------------------------------------------


def number_empty() -> str:
    return "chưa có số liệu"


def number_foreign_digits(raw: str) -> str:
    return f"“{raw}” dùng chữ số lạ; chỉ dùng các chữ số 0–9"


def number_negative(raw: str) -> str:
    return f"“{raw}” là số âm; số liệu phải là số nguyên không âm"


def number_not_whole(raw: str) -> str:
    return f"“{raw}” không phải là số nguyên (ví dụ đúng: 6352 hoặc 6.352)"


def number_ambiguous(raw: str) -> str:
    return (
        f"“{raw}” có thể hiểu theo hai cách (số thập phân hoặc số hàng nghìn viết thiếu); "
        "số liệu là số nguyên, hãy viết rõ, ví dụ 6352 hoặc 6.352"
    )


def number_too_large(raw: str) -> str:
    return f"“{raw}” lớn bất thường; vui lòng kiểm tra lại"


# --- parsing and validation -----------------------------------------------------------------


def report_too_long(limit: int) -> str:
    return f"Báo cáo quá dài (tối đa {limit} ký tự). Mỗi dòng chỉ ghi “tên chỉ tiêu: số liệu”."


def unknown_label(label: str, suggestions: Sequence[str]) -> str:
    shown = label if len(label) <= 60 else label[:57] + "…"
    if suggestions:
        return f"Không hiểu mục “{shown}”. Có phải: {_join(suggestions)}?"
    return f"Không hiểu mục “{shown}”."


def bad_value(label: str, reason: str) -> str:
    return f"{label}: {reason}."


def duplicate_field(label: str, first: str, second: str) -> str:
    return f"{label} được ghi hai lần với hai số khác nhau ({first} và {second})."


def two_units(names: Sequence[str]) -> str:
    return (
        f"Tin nhắn có báo cáo của nhiều đơn vị ({_join(names)}). "
        "Mỗi tin nhắn chỉ gửi báo cáo của một đơn vị; không có số liệu nào được lưu. "
        "Gửi riêng từng báo cáo."
    )


FORWARDED_REPORT = (
    "Tin nhắn chuyển tiếp không được nhận làm báo cáo: số liệu, đơn vị và thời điểm là của "
    "tin nhắn gốc. Hãy gửi báo cáo của đơn vị mình bằng lệnh /baocao (có thể chép nội dung rồi "
    "sửa số liệu)."
)


TWO_REPORTS = (
    "Tin nhắn có hai lệnh /baocao, tức là hai báo cáo. "
    "Mỗi tin nhắn chỉ gửi một báo cáo; không có số liệu nào được lưu. Gửi riêng từng báo cáo."
)


def more_problems(count: int) -> str:
    return f"… và {count} lỗi khác."


def missing_fields(labels: Sequence[str]) -> str:
    return f"Thiếu số liệu: {_join(labels)}."


def incomplete_indicator(indicator: str, labels: Sequence[str]) -> str:
    return f"Chỉ tiêu “{indicator}” cần thêm: {_join(labels)}."


def no_values() -> str:
    return "Báo cáo chưa có số liệu nào."


# What a broken comparison of a `[[rules]]` entry is said to be, by its operator.
RULE_VERBS = {
    "=": "không bằng",
    "!=": "không được bằng",
    "<=": "không được lớn hơn",
    ">=": "không được nhỏ hơn",
    "<": "phải nhỏ hơn",
    ">": "phải lớn hơn",
}


def rule_broken_text(left: str, verb: str, right: str) -> str:
    """`Đã kích hoạt ĐDĐT (5.946) không được lớn hơn Đã xác thực ĐDĐT (4.946).`"""
    return f"{left} {verb} {right}."


def rule_with_message(message: str, said: str) -> str:
    """A rule's own `message`, then the figures."""
    return f"{message.rstrip(' .:')} — {said}"


def numerator_exceeds(indicator: str, numerator: str, denominator: str) -> str:
    return f"“{indicator}”: số đạt ({numerator}) lớn hơn tổng số ({denominator})."


def cumulative_fell(label: str, now: str, before: str) -> str:
    return f"{label}: {now} thấp hơn số lũy kế tuần trước ({before})."


def magnitude_high(label: str, now: str, before: str, times: str) -> str:
    return f"{label}: {now} gấp {times} lần tuần trước ({before}) — có gõ thừa số 0?"


def magnitude_low(label: str, now: str, before: str, times: str) -> str:
    return f"{label}: {now} chỉ bằng 1/{times} tuần trước ({before}) — có gõ thiếu số 0?"


def carried_forward(names: Sequence[str], source: str) -> str:
    """`source`: "tuần trước", "tuần 44" or "lần gửi trước" (this week's earlier report)."""
    return (
        f"Đã giữ số {source} cho {_join(names)} (báo cáo này không ghi); "
        "nếu số đã thay đổi, gửi lại báo cáo có các dòng đó."
    )


def unusual_jump(label: str, step: str, usual: str) -> str:
    return (
        f"{label} tăng {step} trong một tuần, cao bất thường so với các tuần gần đây "
        f"(nhiều nhất {usual}/tuần). Vui lòng kiểm tra lại."
    )


# --- access ---------------------------------------------------------------------------------

UNKNOWN_GROUP = (
    "Nhóm này chưa được đăng ký với bot báo cáo Đề án 06 nên bot không trả lời số liệu ở đây. "
    "Vui lòng liên hệ Thường trực Tổ Công tác để được cấu hình."
)
BUSY_NOT_SAVED = "⚠️ Hệ thống đang bận, báo cáo của bạn CHƯA được lưu. Vui lòng gửi lại sau ít phút."
BUSY = "⚠️ Hệ thống đang bận, vui lòng thử lại sau ít phút."
# A failure that waiting will not fix (disk full, a value the database refuses).
STORAGE_FAILED_NOT_SAVED = (
    "⚠️ Lỗi lưu trữ, đã báo quản trị. Báo cáo của bạn CHƯA được lưu; "
    "vui lòng gửi lại khi quản trị viên báo đã khắc phục."
)
STORAGE_FAILED = (
    "⚠️ Lỗi lưu trữ, đã báo quản trị. Vui lòng thử lại khi quản trị viên báo đã khắc phục."
)


def storage_alert(command: str, problem: str) -> str:
    return (
        f"🚨 Lỗi lưu trữ khi xử lý lệnh /{command}: {problem}. "
        "Gửi lại không tự hết lỗi này; vui lòng kiểm tra cơ sở dữ liệu (dung lượng đĩa, "
        "nhật ký của bot). Thông báo này chỉ gửi một lần."
    )


INTERNAL_ERROR = (
    "⚠️ Có lỗi khi xử lý tin nhắn; không có gì bị thay đổi. Vui lòng thử lại hoặc báo quản trị viên."
)
UNKNOWN_COMMAND = "Bot không hiểu lệnh này. Gõ /huongdan để xem các lệnh."


def slow_down(minutes: int) -> str:
    """The one answer to a sender past `[limits] per_minute` (handlers.flood)."""
    return (
        "⏳ Bạn gửi quá nhanh, vui lòng chậm lại. Trong "
        f"{minutes} phút tới bot sẽ không trả lời và không lưu tin nhắn nào của bạn, kể cả "
        "báo cáo; sau đó hãy gửi lại."
    )


LEADERS_ONLY = "Chỉ lãnh đạo và quản trị viên được dùng lệnh này."
ADMINS_ONLY = "Chỉ quản trị viên được dùng lệnh này."
LEADER_APPROVES_ONLY = "Chỉ lãnh đạo được phê duyệt số liệu tuần."


def not_registered() -> str:
    return (
        "Bạn chưa được đăng ký gửi báo cáo. Gửi /dangky <tên đơn vị>, ví dụ "
        "“/dangky Xã Bình Long”, rồi chờ quản trị viên duyệt."
    )


def not_your_unit(own: str, other: str) -> str:
    return f"Bạn chỉ được báo cáo cho {own}, không thể báo cáo cho {other}."


def leader_cannot_report() -> str:
    return "Lãnh đạo không gửi báo cáo; các đơn vị gửi bằng lệnh /baocao."


def wrong_chat(command: str, chat_type: str) -> str:
    """A command declared for the other kind of chat (handlers.commands)."""
    where = "nhóm báo cáo" if chat_type == "private" else "tin nhắn riêng với bot"
    return f"Lệnh /{command} chỉ dùng trong {where}."


# --- units ----------------------------------------------------------------------------------


def unit_needed() -> str:
    return "Vui lòng ghi rõ đơn vị, ví dụ dòng “Đơn vị: Xã Bình Long”."


def unit_unknown(text: str, suggestions: Sequence[str]) -> str:
    hint = f" Có phải: {_join(suggestions)}?" if suggestions else ""
    return f"Không tìm thấy đơn vị “{text}”.{hint}"


def unit_ambiguous(text: str, names: Sequence[str]) -> str:
    return (
        f"“{text}” có thể là: {_join(names)}. Các tên này chỉ khác nhau ở dấu, bot không tự đoán. "
        "Vui lòng gửi lại với tên có dấu chính xác."
    )


# --- reports --------------------------------------------------------------------------------


def report_refused(problems: Sequence[str]) -> str:
    lines = "\n".join(f"• {p}" for p in problems)
    return f"❌ Báo cáo CHƯA được nhận:\n{lines}"


TEMPLATE_INTRO = "Mẫu báo cáo đã sửa, chép lại, điền số rồi gửi:"


def template_title(unit: str, period: str) -> str:
    return f"Mẫu báo cáo {period} — {unit}"


def template_hint(has_previous: bool) -> str:
    if has_previous:
        return "Số điền sẵn là số liệu báo cáo gần nhất: sửa thành số mới rồi gửi cả tin nhắn."
    return "Chép mẫu, điền số liệu lũy kế sau dấu “:” rồi gửi cả tin nhắn."


def unit_near_miss(typed: str, name: str) -> str:
    return f"Đã hiểu “{typed[:60]}” là {name} (đơn vị của bạn)."


def ignored_lines(lines: Sequence[str], shown: int = 3, width: int = 40) -> str:
    """One short line naming the lines the bot did not read as part of the report."""
    quoted = [f"“{line if len(line) <= width else line[: width - 1] + '…'}”" for line in lines]
    more = f" và {len(lines) - shown} dòng khác" if len(lines) > shown else ""
    return f"ℹ️ Bỏ qua {len(lines)} dòng không phải số liệu: {', '.join(quoted[:shown])}{more}."


def header_week_differs(line: str, current: str) -> str:
    return (
        f"Dòng “{line[:60]}” ghi tuần khác {current} (kỳ đang nhận báo cáo); "
        f"số liệu sẽ được lưu cho {current}."
    )


def period_unknown(text: str) -> str:
    return f"Không hiểu kỳ báo cáo “{text}”; ghi theo dạng “Tuần: 45/2024”."


def other_week(source: str, named: str, current: str) -> str:
    """`named` and `current` as "tuần 46" (with the year when the years differ)."""
    return (
        f"{source}: báo cáo này sửa số liệu {named}, không phải {current} (kỳ đang nhận báo cáo)."
    )


def week_line_source(text: str) -> str:
    return f"Dòng “Tuần: {text}”"


def period_in_future(text: str, current: str) -> str:
    return f"Chưa đến {text}; kỳ đang nhận báo cáo là {current}."


def accepted(unit: str, period: str, late: bool, version: int) -> str:
    when = "nộp muộn" if late else "đúng hạn"
    again = f" (cập nhật lần {version - 1})" if version > 1 else ""
    return f"✅ Đã nhận báo cáo {period} của {unit}{again}, {when}."


CARRIED_FROM_EARLIER_VERSION = "lần gửi trước"
CARRIED_FROM_LAST_WEEK = "tuần trước"


def accepted_edit(unit: str, period: str, late: bool, version: int) -> str:
    when = "nộp muộn" if late else "đúng hạn"
    again = f" (cập nhật lần {version - 1})" if version > 1 else ""
    return f"✅ Báo cáo {period} của {unit}: đã cập nhật theo tin nhắn đã sửa{again}, {when}."


EDITED_SOURCE = "Tin nhắn đã sửa"


def changes_header() -> str:
    return "Thay đổi so với lần gửi trước:"


def change_line(label: str, old: str, new: str) -> str:
    return f"• {label}: {old} → {new}"


def unchanged(unit: str, period: str) -> str:
    return f"Báo cáo {period} của {unit} không có gì thay đổi so với lần gửi trước; không lưu thêm."


def warnings_block(warnings: Sequence[str]) -> str:
    return "⚠️ Lưu ý:\n" + "\n".join(f"• {w}" for w in warnings)


def confirm_needed(warnings: Sequence[str]) -> str:
    lines = "\n".join(f"• {w}" for w in warnings)
    return (
        f"⚠️ Báo cáo CHƯA được lưu vì:\n{lines}\n"
        "Nếu số liệu đúng, gửi /xacnhan để lưu; "
        "nếu sai, gửi lại báo cáo đã sửa; gửi /huy để bỏ."
    )


NOTHING_TO_CONFIRM = "Không có báo cáo nào đang chờ xác nhận."
PENDING_CANCELLED = "Đã hủy báo cáo đang chờ xác nhận; không có gì được lưu."


def rates_header() -> str:
    return "Tỉ lệ của đơn vị:"


# --- status ---------------------------------------------------------------------------------


def status_title(period: str, due: datetime) -> str:
    return f"📋 Tình hình báo cáo {period} (hạn {fmt_moment(due)})"


def status_counts(on_time: int, late: int, missing: int, total: int) -> str:
    return (
        f"Đã báo cáo: {on_time + late}/{total} đơn vị "
        f"(đúng hạn {on_time}, muộn {late}); chưa báo cáo: {missing}."
    )


def status_list(title: str, names: Sequence[str], count: int | None = None) -> str:
    """`count` when `names` is cut short (its last item then says how many more)."""
    total = len(names) if count is None else count
    return f"{title} ({total}): {_join(names) if names else 'không có'}"


STATUS_ON_TIME = "✅ Đúng hạn"
STATUS_LATE = "⏰ Muộn"
STATUS_MISSING = "❌ Chưa báo cáo"


def totals_header(scope: str) -> str:
    return f"Tổng hợp {scope} đã báo cáo (tỉ lệ của tổng):"


def own_status(unit: str, state: str) -> str:
    return f"Đơn vị của bạn — {unit}: {state}."


OWN_REPORTED = "đã báo cáo"
OWN_LATE = "đã báo cáo (muộn)"
OWN_MISSING = "chưa báo cáo"

# --- ranking --------------------------------------------------------------------------------


def ranking_title(indicator: str, period: str, target: str, deadline: date | None) -> str:
    due = f", hạn {fmt_date(deadline)}" if deadline else ""
    goal = f" (chỉ tiêu {target}{due})" if target else ""
    return f"📊 {indicator} — {period}{goal}"


def section_met(count: int) -> str:
    return f"Đơn vị đã hoàn thành chỉ tiêu ({count})"


def section_not_met(count: int) -> str:
    return f"Đơn vị chưa hoàn thành chỉ tiêu ({count})"


def section_all(count: int) -> str:
    return f"Các đơn vị ({count})"


def band_label(band: int, low: str, high: str) -> str:
    """A tier's band (0 critical, 1 warning, 2 met, core.tiers.Band) by its thresholds."""
    return (f"dưới {low}", f"từ {low} đến dưới {high}", f"từ {high}")[band]


def section_band(mark: str, label: str, count: int) -> str:
    return f"{mark} Đơn vị {label} ({count})" if mark else f"Đơn vị {label} ({count})"


def band_counts(parts: Sequence[tuple[str, str, int]]) -> str:
    """(mark, label, count) of each band, best first."""
    return "Theo mức: " + " · ".join(f"{mark} {label}: {count}" for mark, label, count in parts)


def group_total(numerator: str, denominator: str, rate: str) -> str:
    return f"Tổng chung: {numerator}/{denominator} = {rate}"


def no_figures(names: Sequence[str], count: int | None = None) -> str:
    total = len(names) if count is None else count
    return f"Chưa có số liệu ({total}): {_join(names)}"


def own_rank(
    unit: str, position: int, total: int, rate: str, met: bool | None, band: str = ""
) -> str:
    """`band`: the mark and words of the unit's tier, when the indicator has tiers."""
    state = "" if met is None else (", đạt chỉ tiêu" if met else ", chưa đạt chỉ tiêu")
    level = f", mức {band}" if band else ""
    return f"{unit}: hạng {position}/{total}, {rate}{state}{level}."


def no_reports_yet(period: str) -> str:
    return f"Chưa có báo cáo nào cho {period}."


def week_hint(command: str, text: str) -> str:
    return (
        f"Không hiểu tuần “{text}”. Ví dụ: /{command} 46, /{command} 46/2024, "
        f"/{command} tuần trước."
    )


def indicator_unknown(text: str, options: Sequence[str]) -> str:
    return f"Không có chỉ tiêu “{text}”. Các chỉ tiêu: {_join(options)}."


COL_NO = "TT"
COL_UNIT = "Đơn vị"
COL_DONE = "Đạt"
COL_TOTAL = "Tổng"
COL_RATE = "Tỉ lệ"
COL_CHANGE = "±tuần"
COL_WEEK = "Tuần"
COL_INDICATOR = "Chỉ tiêu"
COL_TARGET = "Mục tiêu"
FULL_RANKING_HINT = (
    "Bảng đầy đủ (số đạt/tổng, các cột phụ): nhắn riêng /xephang cho bot, hoặc /bieudo, /xuat."
)


RANKINGS_OVERVIEW_HINT = (
    "Bảng của một chỉ tiêu: /xephang <chỉ tiêu>, ví dụ /xephang xác thực; "
    "bảng đầy đủ: nhắn riêng /xephang cho bot."
)


def rankings_overview_title(period: str) -> str:
    return f"🏆 Xếp hạng theo chỉ tiêu — {period}"


def more_units(count: int) -> str:
    return f"… và {count} đơn vị khác."


def and_more(count: int) -> str:
    return f"… và {count} đơn vị khác"


def own_no_figures(unit: str) -> str:
    return f"{unit}: chưa có số liệu chỉ tiêu này trong tuần."


# --- pace -----------------------------------------------------------------------------------


def pace_title(scope: str, today: date) -> str:
    return f"🎯 Tiến độ đến hạn — {scope} (tính đến {fmt_date(today)})"


def pace_line(
    indicator: str,
    rate: str,
    target: str,
    remaining: str,
    deadline: date | None,
    days_left: int | None,
    per_day: str | None,
    per_week: str | None,
    pace: str | None,
    projected: date | None,
    met: bool,
    at_risk: bool,
    day: str = "ngày",
    pace_per_day: str | None = None,
) -> str:
    head = f"• {indicator}: {rate} / chỉ tiêu {target}"
    if met:
        return head + " — ✅ đã đạt."
    parts = [head, f"  còn thiếu {remaining}"]
    if deadline is not None and days_left is not None:
        parts.append(f"  hạn {fmt_date(deadline)}, còn {days_left} ngày")
        parts.append(f"  cần {per_day}/{day} ({per_week}/tuần)")
    if pace:
        daily = f" (≈ {pace_per_day}/{day})" if pace_per_day else ""
        parts.append(f"  tốc độ hiện tại: {pace}/tuần{daily}")
    else:
        parts.append("  chưa đủ số liệu để tính tốc độ")
    if projected is not None:
        parts.append(f"  dự kiến đạt: {fmt_date(projected)}")
    if at_risk:
        parts.append("  ⚠️ với tốc độ hiện tại sẽ không đạt đúng hạn")
    return "\n".join(parts)


def at_risk_units(indicator: str, names: Sequence[str], count: int | None = None) -> str:
    total = len(names) if count is None else count
    return f"Đơn vị có nguy cơ không đạt “{indicator}” ({total}): {_join(names)}"


GROUP_SCOPE = "toàn đơn vị"


def area_scope(level: str | None) -> str:
    """`[group] area`'s level in a sentence ("toàn huyện"); without it "toàn đơn vị"."""
    return f"toàn {level}" if level else GROUP_SCOPE


def chat_scope(name: str) -> str:
    """A scoped chat's part of the set-up in a sentence (`[chats.KEY] areas`, `units`)."""
    return f"địa bàn {name}"


# --- history --------------------------------------------------------------------------------


def history_title(unit: str) -> str:
    return f"🗂 Lịch sử báo cáo — {unit}"


def no_history(unit: str) -> str:
    return f"{unit} chưa có báo cáo nào."


def late_weeks(weeks: Sequence[str]) -> str:
    return f"⏰ Nộp muộn: tuần {_join(weeks)}."


# /lichsu's mark of a week whose figures changed after it closed.
ADJUSTED_MARK = "*"


def adjusted_weeks(weeks: Sequence[str]) -> str:
    return f"✏️ ({ADJUSTED_MARK}) Số liệu đã điều chỉnh sau khi khóa sổ: tuần {_join(weeks)}."


# --- registration ---------------------------------------------------------------------------


def register_usage() -> str:
    return "Gửi /dangky <tên đơn vị>, ví dụ “/dangky Xã Bình Long”."


def registered_already(unit: str) -> str:
    return f"Bạn đã được đăng ký là cán bộ báo cáo của {unit}."


def no_need_to_register(role_name: str) -> str:
    return f"{role_name.capitalize()} không cần đăng ký."


def registration_waiting(unit: str) -> str:
    return f"Yêu cầu đăng ký cho {unit} đang chờ quản trị viên duyệt."


def registration_sent(number: int, unit: str) -> str:
    return (
        f"Đã gửi yêu cầu đăng ký số {number} làm cán bộ báo cáo của {unit}. "
        "Bot sẽ nhận báo cáo của bạn sau khi quản trị viên duyệt."
    )


REGISTRATION_LIST_TITLE = "Yêu cầu đăng ký đang chờ duyệt:"
REGISTRATION_LIST_FOOTER = (
    "Gửi /duyet <số> để duyệt, /duyet <số> tuchoi để từ chối, "
    "/duyet tuchoi tatca để từ chối tất cả."
)


def registration_list(lines: Sequence[str], more: int = 0) -> str:
    if not lines:
        return "Không có yêu cầu đăng ký nào đang chờ duyệt."
    tail = [registrations_more(more)] if more else []
    return "\n".join([REGISTRATION_LIST_TITLE, *lines, *tail, REGISTRATION_LIST_FOOTER])


def registrations_more(n: int) -> str:
    return f"…và {n} yêu cầu khác"


def who_line(platform: str, user_id: str, username: str) -> str:
    """How a person is told apart: platform, numeric id, @username."""
    handle = f", @{username}" if username else ""
    return f"{platform} {user_id}{handle}"


def registration_line(
    number: int,
    name: str,
    unit: str,
    platform: str,
    user_id: str = "",
    username: str = "",
    first: str = "",
    request: str = "",
) -> str:
    line = f"• Số {number}: {name} ({who_line(platform, user_id, username)}) — {unit}"
    if first:
        line += f"; viết lần đầu {first}"
    if request:
        line += f"; nội dung: “{request}”"
    return line


def registrations_all_rejected(n: int) -> str:
    if n == 0:
        return "Không có yêu cầu đăng ký nào đang chờ duyệt."
    return f"Đã từ chối {n} yêu cầu đăng ký đang chờ duyệt."


def registration_sender_limit(n: int) -> str:
    return (
        f"Bạn đã gửi {n} yêu cầu đăng ký trong 24 giờ qua. Vui lòng chờ quản trị viên "
        "hoặc gửi lại vào ngày mai."
    )


REGISTRATION_DAY_LIMIT = (
    "Hôm nay bot đã nhận quá nhiều yêu cầu đăng ký. Vui lòng gửi lại vào ngày mai "
    "hoặc liên hệ trực tiếp quản trị viên."
)


# --- people (/thuhoi) ---------------------------------------------------------------------

PEOPLE_FOOTER = (
    "Gửi /thuhoi <số|tên> để thu hồi, /thuhoi <số|tên> tamdung để tạm dừng, "
    "/thuhoi <số|tên> molai để bỏ tạm dừng."
)


def people_list(lines: Sequence[str], more: int = 0) -> str:
    if not lines:
        return "Chưa có ai được duyệt qua /dangky."
    tail = [f"…và {more} người khác"] if more else []
    return "\n".join(["Người đã được duyệt:", *lines, *tail, PEOPLE_FOOTER])


def person_line(
    number: int, name: str, platform: str, user_id: str, username: str, unit: str, suspended: bool
) -> str:
    mark = " (đang tạm dừng)" if suspended else ""
    return f"• Số {number}: {name} ({who_line(platform, user_id, username)}) — {unit}{mark}"


def person_missing(query: str) -> str:
    return f"Không tìm thấy người đã được duyệt “{query}”. Gửi /thuhoi để xem danh sách."


def person_ambiguous(query: str, lines: Sequence[str]) -> str:
    return f"Có {len(lines)} người khớp “{query}”; vui lòng ghi số:\n" + "\n".join(lines)


def person_revoked(name: str, unit: str) -> str:
    return f"Đã thu hồi quyền báo cáo của {name} ({unit}). Người này không còn dùng được bot."


def person_suspended(name: str, unit: str) -> str:
    return f"Đã tạm dừng quyền báo cáo của {name} ({unit}). Gửi /thuhoi <số> molai để cho dùng lại."


def person_resumed(name: str, unit: str) -> str:
    return f"✅ {name} ({unit}) được báo cáo trở lại."


def person_not_suspended(name: str) -> str:
    return f"{name} không bị tạm dừng."


def person_already_suspended(name: str) -> str:
    return f"{name} đang bị tạm dừng rồi."


def registration_missing(number: str) -> str:
    return f"Không có yêu cầu đăng ký số {number} đang chờ duyệt."


def registration_approved(name: str, unit: str) -> str:
    return f"✅ Đã duyệt {name} làm cán bộ báo cáo của {unit}."


def registration_rejected(name: str, unit: str) -> str:
    return f"Đã từ chối yêu cầu của {name} cho {unit}."


# --- help -----------------------------------------------------------------------------------


def help_text(title: str, role_name: str, lines: Sequence[str], due: str) -> str:
    body = "\n".join(lines)
    return (
        f"🤖 Bot báo cáo Đề án 06 — {title}\n"
        f"Bạn là: {role_name}.\n{body}\n"
        f"Hạn báo cáo: {due}. Số liệu là số lũy kế (cộng dồn). "
        "Viết số kiểu 6352, 6.352 hay 6 352 đều được."
    )


ROLE_NAMES = {
    "officer": "cán bộ báo cáo",
    "leader": "lãnh đạo",
    "admin": "quản trị viên",
    None: "chưa đăng ký",
}
WEEKDAY_NAMES = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


# --- Telegram: the step-by-step form and the command menu ----------------------------------

FORM_ASK_UNIT = "📝 Báo cáo cho đơn vị nào? Trả lời bằng tên xã/phường/thị trấn (gõ /huy để hủy)."


def form_heading(week: str, unit: str) -> str:
    """Which report a form fills in: `Báo cáo tuần 46/2024 — Xã Bình Long` (`week` as
    `Period.label`)."""
    return f"Báo cáo {week} — {unit}"


def form_start(heading: str) -> str:
    return (
        f"📝 {heading}. Nhập từng mục một: trả lời từng câu hỏi bằng con số lũy kế; "
        "gõ /huy để hủy bất cứ lúc nào. Có thêm mục khác thì gửi cả mẫu (/mau) thay cho cách này."
    )


def form_ask(
    label: str,
    number: int,
    total: int,
    required: bool,
    current: str | None,
    previous: str | None = None,
) -> str:
    text = f"({number}/{total}) {label}?"
    if previous is not None and current is None:
        text += f" (lần trước: {previous})"
    if current is not None:
        text += f" Đang là {current}; gõ . để giữ nguyên."
    elif not required:
        text += " Gõ - nếu đơn vị không có mục này."
    return text


def form_bad_value(problem: str) -> str:
    return f"⚠️ {problem[:1].upper()}{problem[1:]}. Nhập lại."


def form_summary(report: str, week: str | None = None, unit: str = "") -> str:
    """The draft's summary; `week` as `Period.label` (None: a draft kept without its week)."""
    title = f"báo cáo {week} — {unit}" if week else "báo cáo"
    return f"Kiểm tra lại {title} trước khi gửi:\n\n{report}\n\nBấm Gửi, Sửa hoặc Hủy."


FORM_BUTTON_SEND = "✅ Gửi"
FORM_BUTTON_EDIT = "✏️ Sửa"
FORM_BUTTON_CANCEL = "✖️ Hủy"


def form_timeout(minutes: int) -> str:
    return (
        f"⌛ Quá {minutes} phút không thấy trả lời nên bot đã dừng nhập báo cáo; "
        "chưa có gì được lưu. Gõ /baocao để bắt đầu lại."
    )


# --- Zalo -----------------------------------------------------------------------------------


def zalo_monthly_warning(count: str, limit: str, month: str) -> str:
    """`count` and `limit` come formatted (core.numbers imports this module)."""
    return (
        f"⚠️ Bot Zalo đã gửi {count} tin nhắn trong tháng {month}, "
        f"gần hết hạn mức {limit} tin/tháng của gói Zalo. "
        "Khi vượt hạn mức, bot có thể không gửi được nhắc nhở và bảng tổng hợp; "
        "xin cân nhắc nâng gói hoặc chuyển nhóm sang Telegram."
    )


# --- scheduler: reminders, last call, digest, countdowns, nudges ------------------------------


def fmt_due(moment: datetime) -> str:
    """`10:00 thứ Hai 18/11/2024`."""
    return f"{moment:%H:%M} {WEEKDAY_NAMES[moment.weekday()]} {fmt_date(moment.date())}"


def early_reminder(period: str, due: datetime, reported: int, total: int) -> str:
    return (
        f"📢 Nhắc báo cáo {period}: hạn nộp {fmt_due(due)}.\n"
        f"Đã có {reported}/{total} đơn vị báo cáo. "
        "Gõ /mau để lấy mẫu báo cáo của đơn vị, điền số rồi gửi /baocao."
    )


def due_moved(regular: datetime, due: datetime) -> str:
    return (
        f"📅 Lưu ý: {WEEKDAY_NAMES[regular.weekday()]} {fmt_date(regular.date())} là ngày nghỉ lễ, "
        f"hạn nộp chuyển sang {fmt_due(due)}."
    )


def last_call_header(period: str, due: datetime, minutes: int, count: int) -> str:
    return (
        f"⏰ Còn {minutes} phút đến hạn báo cáo {period} ({fmt_due(due)}). "
        f"{count} đơn vị chưa báo cáo:"
    )


def missing_private(unit: str, period: str, due: datetime) -> str:
    return (
        f"⏰ {unit} chưa gửi báo cáo {period}; hạn nộp {fmt_due(due)}. "
        "Gõ /mau để lấy mẫu, điền số rồi gửi /baocao."
    )


def digest_title(period: str, due: datetime) -> str:
    return f"📊 TỔNG HỢP BÁO CÁO {period.upper()} (hạn {fmt_due(due)})"


DIGEST_RANKINGS = "🏆 Xếp hạng theo chỉ tiêu:"
DIGEST_FULL = (
    "Bảng xếp hạng đầy đủ: ảnh bên dưới, /xephang <chỉ tiêu> (nhắn riêng cho bot) hoặc /xuat."
)


def digest_met(met: int, total: int, target: str) -> str:
    return f"Đạt chỉ tiêu {target}: {met}/{total} đơn vị"


def digest_top(names: Sequence[str]) -> str:
    return f"Cao nhất: {_join(names)}"


def digest_bottom(names: Sequence[str]) -> str:
    return f"Thấp nhất: {_join(names)}"


DIGEST_IMPROVED = "📈 Tiến bộ nhất so với tuần trước:"
DIGEST_FIRST_WEEK = "📈 Chưa có số liệu tuần trước để so sánh mức tăng."
DIGEST_NO_IMPROVED = "📈 Chưa có đơn vị nào tăng tỉ lệ so với tuần trước."
DIGEST_AT_RISK = "⚠️ Theo tốc độ hiện tại, có nguy cơ không đạt chỉ tiêu đúng hạn:"
DIGEST_NO_RISK = "✅ Theo tốc độ hiện tại, không đơn vị nào có nguy cơ trễ hạn chỉ tiêu."


def improved_line(unit: str, indicator: str, change: str) -> str:
    return f"• {unit}: {indicator} {change} điểm %"


def countdown_title(indicator: str, days: int, deadline: date, target: str) -> str:
    return f"⏳ Còn {days} ngày đến hạn {fmt_date(deadline)} của chỉ tiêu “{indicator}” ({target})."


def countdown_group(rate: str, remaining: str, per_day: str, day: str = "ngày") -> str:
    return f"Toàn đơn vị: {rate}, còn thiếu {remaining}, cần trung bình {per_day}/{day}."


def countdown_met(rate: str) -> str:
    return f"Toàn đơn vị: {rate} — ✅ đã đạt chỉ tiêu."


COUNTDOWN_BEHIND = "Đơn vị còn thiếu nhiều nhất:"


def countdown_unit(unit: str, rate: str, remaining: str, per_day: str, day: str = "ngày") -> str:
    return f"• {unit}: {rate}, còn thiếu {remaining} (cần {per_day}/{day})"


NUDGE_BUTTON = "Nhắc đơn vị chưa báo cáo"


def nudge_header(period: str, due: datetime, count: int) -> str:
    return f"🔔 Lãnh đạo nhắc: {count} đơn vị chưa gửi báo cáo {period} (hạn {fmt_due(due)}):"


def nudge_done(names: Sequence[str]) -> str:
    return f"Đã nhắc {len(names)} đơn vị: {_join(names)}."


JOB_KINDS = {
    "remind": "tin nhắc nộp báo cáo",
    "lastcall": "tin nhắc lần cuối",
    "digest": "bản tổng hợp tuần",
    "countdown": "tin đếm ngược hạn chỉ tiêu",
    "answer": "câu trả lời của bot",
}


def undelivered_notice(
    kind: str, period: str, planned_at: datetime, failures: Sequence[tuple[str, str, str]]
) -> str:
    """To the admins, once the retries of a scheduled post ran out; `failures` are
    (recipient, platform, what the platform said)."""
    lines = [
        f"⚠️ Bot KHÔNG gửi được {JOB_KINDS.get(kind, kind)} {period} "
        f"(lúc {fmt_moment(planned_at)}) tới:"
    ]
    lines += [f"• {name} ({platform}): {reason}" for name, platform, reason in failures]
    lines.append(
        "Bot đã thử lại nhiều lần. Hãy kiểm tra bot còn trong nhóm, người nhận đã mở bot và "
        "bấm Start; nội dung này cần gửi lại thủ công."
    )
    return "\n".join(lines)


def unreachable_header(count: int) -> str:
    return f"🚫 Bot chưa nhắn riêng được cho {count} người (tin nhắc không tới họ):"


def unreachable_person(name: str, platform: str) -> str:
    return f"• {name} ({platform})"


UNREACHABLE_TELL = "Hãy nhắn họ: mở bot và bấm Start."


def nudge_unreached(names: Sequence[str]) -> str:
    return f"⚠️ Chưa nhắc được {len(names)} đơn vị: {_join(names)}."


def nudge_failed_to(names: Sequence[str]) -> str:
    return f"⚠️ Không gửi được tới: {_join(names)}."


def nudge_recent(names: Sequence[str], minutes: int) -> str:
    return f"Đã nhắc trong {minutes} phút qua, chưa nhắc lại: {_join(names)}."


def nudge_approved(period: str) -> str:
    """/nhacnho for a week a leader approved: its figures are final, nobody is asked."""
    return (
        f"Số liệu {period} đã được lãnh đạo phê duyệt, là số liệu chính thức; không nhắc đơn vị "
        "báo cáo tuần này."
    )


def nudge_nobody(period: str) -> str:
    return f"✅ Tất cả đơn vị đã báo cáo {period}; không cần nhắc."


def quiet_hours(start: str, end: str) -> str:
    return f"🌙 Đang trong giờ nghỉ ({start}–{end}), bot không gửi nhắc nhở. Vui lòng thử lại sau."


# --- charts and files (handlers/files.py; the charts' own words: render/texts.py) ----------


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# Kinds of /bieudo: the Vietnamese name first, then aliases (ASCII).
CHART_KIND_NAMES = {
    "xephang": ("xephang", "rank", "ranking"),
    "xuhuong": ("xuhuong", "trend"),
    "tiendo": ("tiendo", "progress", "plan"),
    "nhiet": ("nhiet", "heatmap", "bando"),
}


def chart_kind_unknown(text: str) -> str:
    return (
        f"Không có loại biểu đồ “{text}”. Dùng: /bieudo [chỉ tiêu] [loại], loại là "
        "xephang (xếp hạng), xuhuong (diễn biến), tiendo (tiến độ so với kế hoạch) "
        "hoặc nhiet (bảng màu theo tuần). Ví dụ: /bieudo Xác thực ĐDĐT xephang"
    )


def chart_indicator_unknown(text: str, options: Sequence[str]) -> str:
    return (
        f"Không có chỉ tiêu hay đơn vị “{text}”. Các chỉ tiêu: {_join(options)}. "
        "Loại biểu đồ: xephang, xuhuong, tiendo, nhiet. "
        "Ví dụ: /bieudo Xác thực ĐDĐT xuhuong hoặc /bieudo Xác thực ĐDĐT Bình Long tiendo"
    )


def chart_caption(indicator: str, period: str) -> str:
    return f"{indicator} — {period}"


def chart_no_data(indicator: str) -> str:
    return f"Chưa đủ số liệu để vẽ biểu đồ {indicator}."


CHARTS_LEADERS_ONLY = (
    "Chỉ lãnh đạo và quản trị viên được xem biểu đồ của cả huyện. "
    "Cán bộ xem kết quả của đơn vị mình bằng /xephang và /tiendo."
)
FILES_LEADERS_ONLY = (
    "Chỉ lãnh đạo và quản trị viên được xuất tệp báo cáo (Excel, CSV, Word). "
    "Cán bộ xem kết quả của đơn vị mình bằng /xephang và /tiendo."
)


def export_format_unknown(text: str) -> str:
    return (
        f"Không hiểu “{text}”. Dùng: /xuat [xlsx|csv|docx] [tuần|tháng|quý|năm], "
        "ví dụ /xuat xlsx, /xuat docx 2024-W47 hoặc /xuat docx thang 11/2024."
    )


EXPORT_NAMES = {"xlsx": "bảng Excel", "csv": "tệp CSV", "docx": "dự thảo báo cáo tuần (Word)"}
# A month's, quarter's or year's files (`/xuat docx thang 11/2024`).
EXPORT_PERIOD_NAMES = {**EXPORT_NAMES, "docx": "dự thảo báo cáo (Word)"}


def export_caption(fmt: str, period: str, weekly: bool = True) -> str:
    names = EXPORT_NAMES if weekly else EXPORT_PERIOD_NAMES
    return f"📎 {capital(names.get(fmt, fmt))} {period}"


def export_period_unknown(text: str) -> str:
    return (
        f"Không hiểu kỳ báo cáo “{text}”. Ví dụ: /xuat docx thang 11/2024, "
        "/xuat docx quy 4/2024, /xuat xlsx nam 2024."
    )


def export_period_future(period: str) -> str:
    return f"Kỳ {period} chưa bắt đầu, chưa có số liệu để tổng hợp."


def no_reports_in(period: str) -> str:
    return f"Chưa có báo cáo tuần nào trong {period} (tính các tuần có hạn báo cáo đã qua)."


def carried_note(count: int, scope: str) -> str:
    """Why a running total may differ from the week's ranking: it keeps the last figures of
    units that have not reported this week, so it never falls when one is late."""
    return (
        f"ℹ️ Tổng {scope} gồm số tuần trước của {count} đơn vị chưa báo cáo tuần này "
        "(bảng xếp hạng và /trangthai chỉ tính đơn vị đã báo cáo)."
    )


# --- `[[rules]] expr`: why an expression cannot be read (one line of a config error) --------


def rule_bad_char(char: str, pos: int) -> str:
    return f"ký tự {char!r} (vị trí {pos}) không được dùng; chỉ mã trường, số, + - * ( ) và so sánh"


def rule_decimal_comma(pos: int) -> str:
    return f"số thập phân viết bằng dấu chấm, ví dụ 1.1 (vị trí {pos})"


def rule_ends_early() -> str:
    return "biểu thức kết thúc giữa chừng (thiếu số hoặc mã trường)"


def rule_unexpected(word: str, pos: int) -> str:
    return f"không hiểu {word!r} ở vị trí {pos}"


def rule_unclosed(pos: int) -> str:
    return f"ngoặc mở ở vị trí {pos} chưa được đóng"


def rule_unknown_field(code: str) -> str:
    return f"trường {code!r} không có trong [[fields]]"


def rule_too_long(limit: int) -> str:
    return f"biểu thức dài quá {limit} ký tự"


def rule_too_deep(limit: int) -> str:
    return f"biểu thức lồng quá {limit} tầng ngoặc"


RULE_NO_COMPARISON = 'cần một phép so sánh (= != <= >= < >), ví dụ "muc1 + muc2 = tong"'
RULE_NO_FIELD = "cần ít nhất một mã trường"


# --- the digest: units whose current report breaks a `warning` rule --------------------------


def digest_warnings(count: int) -> str:
    return f"⚠️ Số liệu cần xem lại ({count} đơn vị):"


def digest_warning_line(unit: str, warning: str, more: int) -> str:
    extra = f" (và {more} cảnh báo khác)" if more else ""
    return f"• {unit}: {warning}{extra}"


# --- milestones and daily quotas (`milestones` of an indicator, `[pace]`) ---------------------

DAY = "ngày"
WORKING_DAY = "ngày làm việc"


def milestone_next(
    goal: str, on: date, days: int, more: str, per_day: str | None, day: str = DAY
) -> str:
    """`mốc tiếp theo: 80.000 đến 31/07/2024 (còn 12 ngày, cần thêm 1.500, 125/ngày)`."""
    if per_day is None:
        return f"  mốc tiếp theo: {goal} đến {fmt_date(on)} — ✅ đã đạt"
    return (
        f"  mốc tiếp theo: {goal} đến {fmt_date(on)} "
        f"(còn {days} {day}, cần thêm {more}, {per_day}/{day})"
    )


def milestone_last(goal: str, on: date, reached: bool, share: str) -> str:
    """`mốc 80.000 đến 31/07/2024: ❌ chưa đạt (78%)`."""
    state = "✅ đạt" if reached else "❌ chưa đạt"
    return f"  mốc {goal} đến {fmt_date(on)}: {state} ({share})"


DIGEST_DAILY_QUOTAS = "📌 Chỉ tiêu trong ngày của các đơn vị còn thấp nhất:"


def digest_milestones(indicator: str) -> str:
    return f"• {indicator}:"


def daily_quota_unit(unit: str, per_day: str, end: date, pace: str | None, day: str = DAY) -> str:
    """`– Bình Châu: cần 45/ngày đến 31/07/2024; thực tế 12/ngày`."""
    actual = f"thực tế {pace}/{day}" if pace is not None else "chưa đủ số liệu tính tốc độ"
    return f"  – {unit}: cần {per_day}/{day} đến {fmt_date(end)}; {actual}"


# The default header of an indicator's `counts = ["remaining"]` column (denominator − numerator).
COL_REMAINING = "Chưa làm"


# --- Importing the office's spreadsheets (core/importing.py, handlers/imports.py) -----------


def import_cell(row: int, column: str, label: str) -> str:
    """`Dòng 7, cột D (Đã cấp CCCD)`: where a refused value is, as the office sees the sheet."""
    return f"Dòng {row}, cột {column} ({label})"


def import_row(row: int, columns: Sequence[str] = ()) -> str:
    where = f", cột {', '.join(columns)}" if columns else ""
    return f"Dòng {row}{where}"


def import_no_table(example: str) -> str:
    return (
        "Không tìm thấy bảng số liệu trong tệp: cần một dòng tiêu đề có cột “Đơn vị” và các cột "
        f"ghi tên mục báo cáo (ví dụ “{example}”), mỗi dòng sau là một đơn vị."
    )


def import_duplicate_column(label: str, first: str, second: str, row: int) -> str:
    return (
        f"Dòng tiêu đề {row}: mục “{label}” có hai cột ({first} và {second}); "
        "bot không chọn giúp. Vui lòng xóa một cột rồi gửi lại."
    )


IMPORT_NO_PERIOD = (
    "Không biết số liệu của tuần nào: tệp không có cột “Tuần” và không ghi tuần ở tên trang "
    "hay dòng tiêu đề. Ghi tuần vào tệp (ví dụ “Tuần 40/2024”), hoặc dùng --period 2024-W40."
)
IMPORTS_ADMINS_ONLY = (
    "Chỉ quản trị viên được nhập số liệu từ tệp; bot không đọc tệp này và không lưu gì."
)
IMPORT_NO_UNIT = "thiếu tên đơn vị."
IMPORT_NOT_A_COUNT = "không phải số đếm (cần số nguyên không âm)."


def import_duplicate_row(first: int) -> str:
    return f"đơn vị này đã có ở dòng {first} cho cùng tuần; dòng này không được nhập."


def import_other_period(named: str, chosen: str) -> str:
    return f"ghi {named}, khác kỳ đã chọn ({chosen}); dòng này không được nhập."


def import_preview_title(file_name: str, sheet: str) -> str:
    return f"Xem trước nhập số liệu từ tệp “{file_name}” (trang “{sheet}”):"


def import_counts(new: int, changed: int, unchanged: int, refused: int) -> str:
    return (
        f"{new} dòng mới, {changed} dòng thay đổi, {unchanged} dòng không đổi, "
        f"{refused} dòng bị từ chối."
    )


# A previewed row of a closed week: stored as an approved correction.
IMPORT_CLOSED_MARK = " (tuần đã khóa sổ)"


def import_row_new(row: int, unit: str, period: str, closed: bool = False) -> str:
    return f"➕ Dòng {row}: {unit}, {period}{IMPORT_CLOSED_MARK if closed else ''}: mới."


def import_row_changed(row: int, unit: str, period: str, closed: bool = False) -> str:
    return f"✏️ Dòng {row}: {unit}, {period}{IMPORT_CLOSED_MARK if closed else ''}: thay đổi:"


def import_closed_weeks(rows: int, periods: Sequence[str]) -> str:
    return (
        f"🔒 {rows} dòng thuộc tuần đã khóa sổ ({', '.join(periods)}): được lưu như điều chỉnh "
        "đã duyệt, ghi vào lịch sử và nêu trong bản tổng hợp tuần tới."
    )


def import_week_approved(period: str, week: str) -> str:
    return (
        f"{capital(period)} đã được phê duyệt, số liệu là chính thức; dòng này không được nhập. "
        f"Muốn nhập, quản trị viên mở khóa tuần trước: /mokhoa {week} <lý do>."
    )


def import_rows_counted(new: bool, count: int, period: str, closed: bool = False) -> str:
    """A chat preview's one line for a week's many new (or unchanged) rows."""
    mark = IMPORT_CLOSED_MARK if closed else ""
    if new:
        return f"➕ {capital(period)}{mark}: {count} đơn vị mới."
    return f"= {capital(period)}: {count} đơn vị không đổi."


def import_row_unchanged(row: int, unit: str, period: str) -> str:
    return f"= Dòng {row}: {unit}, {period}: không đổi."


def import_row_refused(problem: str) -> str:
    """`problem` names its row and column: `Dòng 7, cột D (Đã cấp CCCD): …`."""
    return f"⛔ {problem}"


def import_source(file_name: str, sheet: str, row: int) -> str:
    """What an imported version's history says it came from."""
    return f"Nhập từ tệp “{file_name}”, trang “{sheet}”, dòng {row}."


IMPORT_HOW = (
    "Để nhập số liệu từ tệp Excel, gửi tệp .xlsx (tối đa 2 MB) vào chat riêng với bot; bot trả "
    "lời bằng bản xem trước, rồi gửi /xacnhan để lưu hoặc /huy để bỏ. Có thể ghi tuần trong chú "
    "thích của tệp, ví dụ “2024-W40”."
)


def import_ignored_columns(columns: Sequence[str]) -> str:
    return f"Các cột không phải mục báo cáo, bỏ qua: {', '.join(columns)}."


def import_row_notes(notes: Sequence[str]) -> str:
    return "   Lưu ý: " + " ".join(notes)


IMPORT_CONFIRM_HINT = (
    "Gửi /xacnhan để lưu các dòng mới và thay đổi, hoặc /huy để bỏ. Các dòng bị từ chối không "
    "được lưu; sửa tệp rồi gửi lại nếu cần."
)
IMPORT_NOTHING_TO_STORE = "Không có dòng nào cần lưu: số liệu trong tệp đã có sẵn hoặc bị từ chối."
IMPORT_DRY_RUN = "Chạy thử (--dry-run): không lưu gì."
IMPORT_EXPIRED = (
    "Tệp nhập số liệu đang chờ đã quá 1 giờ nên bot đã bỏ, không lưu gì; vui lòng gửi lại tệp."
)
IMPORT_CANCELLED = "Đã bỏ tệp nhập số liệu đang chờ; không có gì được lưu."
IMPORT_NOT_XLSX = "Bot chỉ nhận tệp Excel .xlsx để nhập số liệu; tệp này không được đọc."
IMPORT_UNREADABLE = (
    "Không đọc được tệp Excel này (tệp hỏng hoặc không phải .xlsx); không có gì được lưu."
)
IMPORT_FETCH_FAILED = "Không tải được tệp từ nền tảng chat; vui lòng gửi lại sau ít phút."


def import_too_large(limit_mb: int) -> str:
    return f"Tệp quá lớn: bot chỉ nhận tệp nhập số liệu tối đa {limit_mb} MB; không có gì được lưu."


def import_still_waiting(file_name: str) -> str:
    """An admin's import still held after /xacnhan or /huy answered their held report."""
    return f"ℹ️ Tệp “{file_name}” vẫn đang chờ: gửi /xacnhan lần nữa để lưu, /huy để bỏ."


def report_still_held(unit: str, period: str) -> str:
    """An admin's held report still waiting after /xacnhan or /huy answered their import."""
    return (
        f"ℹ️ Báo cáo của {unit} {period} vẫn đang chờ xác nhận: gửi /xacnhan lần nữa để lưu, "
        "/huy để bỏ."
    )


def import_stored(new: int, changed: int, unchanged: int, refused: int) -> str:
    return (
        f"Đã lưu số liệu nhập từ tệp: {new} báo cáo mới, {changed} báo cáo thay đổi; "
        f"{unchanged} dòng không đổi, {refused} dòng bị từ chối không được lưu."
    )


# --- scoped chats and the summary digest ([chats.KEY] areas, units, digest = "summary") -------


def scope_line(name: str, units: int) -> str:
    """Said in a scoped chat, so nobody reads its figures as the whole set-up's."""
    return f"📍 Phạm vi nhóm: {name} ({units} đơn vị)."


AREA_UNSET = "Chưa xếp địa bàn"
SUMMARY_LEVELS = {"province": "tỉnh, thành phố", "district": "huyện, khu vực"}


def summary_title(period: str, due: datetime) -> str:
    return f"📊 TÓM TẮT BÁO CÁO {period.upper()} (hạn {fmt_due(due)})"


def summary_areas_header(level: str) -> str:
    return f"Theo {SUMMARY_LEVELS[level]} — đã báo cáo/tổng số, chưa báo cáo:"


def summary_area_line(area: str, reported: int, total: int, missing: int) -> str:
    tail = f"chưa báo cáo {missing}" if missing else "đủ"
    return f"• {area}: {reported}/{total} · {tail}"


def summary_rates_header(level: str, indicators: Sequence[str]) -> str:
    return f"📈 Tỉ lệ theo {SUMMARY_LEVELS[level]}, lần lượt: {' · '.join(indicators)}"


def summary_rates_line(area: str, rates: Sequence[str]) -> str:
    return f"• {area}: {' · '.join(rates)}"


def summary_rates_total(rates: Sequence[str]) -> str:
    return f"Chung: {' · '.join(rates)}"


def summary_units_header(top: int) -> str:
    return f"🏆 {top} đơn vị cao nhất và thấp nhất theo chỉ tiêu:"


def summary_at_risk(count: int) -> str:
    return f"Có nguy cơ không đạt theo tiến độ: {count} đơn vị"


SUMMARY_FULL = (
    "Chi tiết từng đơn vị: nhóm của từng địa bàn, /xephang (nhắn riêng cho bot) hoặc /xuat."
)


def summary_last_call(period: str, due: datetime, minutes: int, count: int) -> str:
    return (
        f"⏰ Còn {minutes} phút đến hạn báo cáo {period} ({fmt_due(due)}). "
        f"{count} đơn vị chưa báo cáo, theo địa bàn:"
    )


def area_count_line(area: str, count: int) -> str:
    return f"• {area}: {count}"


def area_chart_caption(indicator: str, period: str, level: str) -> str:
    return f"{indicator} theo {SUMMARY_LEVELS[level]} — {period}"


# --- closing and approving a week (core/closing.py, handlers/closing.py) ------------------


def correction_waiting(number: int, unit: str, period: str) -> str:
    return (
        f"⏳ {capital(period)} đã khóa sổ: báo cáo của {unit} được gửi thành yêu cầu điều "
        f"chỉnh số DC{number}, chờ quản trị viên duyệt. Số liệu chưa thay đổi; bot sẽ báo "
        "khi có kết quả."
    )


def correction_already_waiting(numbers: Sequence[int]) -> str:
    listed = ", ".join(f"DC{n}" for n in numbers)
    return f"Yêu cầu trước của bạn ({listed}) vẫn đang chờ duyệt; quản trị viên sẽ xem cả hai."


CORRECTIONS_TITLE = "📝 Yêu cầu điều chỉnh số liệu tuần đã khóa sổ:"
CORRECTIONS_FOOTER = "Duyệt: /duyet dc<số>; từ chối: /duyet dc<số> tuchoi"


def correction_line(number: int, name: str, unit: str, period: str, locked: bool) -> str:
    state = " — 🔒 tuần đã phê duyệt, cần /mokhoa trước" if locked else ""
    return f"• DC{number}: {unit}, {period}, gửi bởi {name}{state}"


def correction_change(label: str, old: str, new: str) -> str:
    return f"    {label}: {old} → {new}"


def corrections_more(n: int) -> str:
    return f"…và {n} yêu cầu điều chỉnh khác"


CORRECTION_NO_CHANGE = "    (không thay đổi số liệu nào)"


def correction_missing(number: str) -> str:
    return f"Không có yêu cầu điều chỉnh số DC{number} đang chờ duyệt."


def correction_approved(number: int, unit: str, period: str, version: int) -> str:
    return (
        f"✅ Đã duyệt điều chỉnh DC{number}: số liệu {period} của {unit} đã thay đổi "
        f"(lần gửi thứ {version}). Bản tổng hợp tuần tới sẽ nêu điều chỉnh này."
    )


def correction_rejected(number: int, unit: str, period: str) -> str:
    return f"Đã từ chối điều chỉnh DC{number} của {unit} cho {period}; số liệu giữ nguyên."


def correction_approved_notice(number: int, unit: str, period: str, by: str) -> str:
    return f"✅ Yêu cầu điều chỉnh DC{number} ({unit}, {period}) đã được {by} duyệt."


def correction_rejected_notice(number: int, unit: str, period: str, by: str) -> str:
    return (
        f"❌ Yêu cầu điều chỉnh DC{number} ({unit}, {period}) đã bị {by} từ chối; "
        "số liệu giữ nguyên."
    )


def correction_locked(period: str, week: int) -> str:
    return (
        f"{capital(period)} đã được phê duyệt, số liệu là chính thức: muốn duyệt điều chỉnh, "
        f"quản trị viên cần mở khóa tuần này trước: /mokhoa {week} <lý do>."
    )


def corrections_in_digest(week: str, changes: Sequence[str]) -> str:
    """`Số liệu tuần 46 đã điều chỉnh: Bình Long Xác thực ĐDĐT 78,94% → 79,10%`."""
    return f"✏️ Số liệu {week} đã điều chỉnh: " + "; ".join(changes)


def correction_digest_item(unit: str, indicator: str, old: str, new: str) -> str:
    return f"{unit} {indicator} {old} → {new}"


def correction_digest_figures(unit: str) -> str:
    return f"{unit} (số liệu thành phần)"


def approve_week_hint(text: str) -> str:
    return f"Không hiểu tuần “{text}”. Ví dụ: /pheduyet 47 hoặc /pheduyet 47/2024."


def approve_week_future(period: str) -> str:
    return f"{capital(period)} chưa đến hạn báo cáo; chỉ phê duyệt được tuần đã qua hạn."


def approve_week_empty(period: str) -> str:
    return f"{capital(period)} chưa có báo cáo nào; không có gì để phê duyệt."


def week_approved(period: str, name: str, at: datetime, waiting: int) -> str:
    text = (
        f"✅ Đã phê duyệt số liệu {period} ({name}, {fmt_moment(at)}). Số liệu là chính thức; "
        "tệp xuất và dự thảo báo cáo ghi “Đã phê duyệt”. Muốn thay đổi, quản trị viên "
        "mở khóa tuần (/mokhoa)."
    )
    if waiting:
        text += f"\nCòn {waiting} yêu cầu điều chỉnh của tuần này chưa duyệt, sẽ phải chờ mở khóa."
    return text


def week_already_approved(period: str, name: str, at: datetime) -> str:
    return f"{capital(period)} đã được phê duyệt trước đó ({name}, {fmt_moment(at)})."


def reopen_hint(text: str) -> str:
    shown = f" “{text}”" if text else ""
    return (
        f"Không hiểu lệnh mở khóa{shown}. Ghi tuần và lý do, ví dụ: "
        "/mokhoa 47 sửa số liệu Bình Long theo công văn 123."
    )


def week_not_approved(period: str) -> str:
    return f"{capital(period)} chưa được phê duyệt; không cần mở khóa."


def approval_for_everyone(units: int, scope: str) -> str:
    """Said by /pheduyet and /mokhoa in a scoped group: a week is approved for the whole
    set-up (its leaders are the set-up's), never for one group's units."""
    return (
        f"📍 Phê duyệt và mở khóa áp dụng cho cả tuần của toàn bộ {units} đơn vị, "
        f"không riêng phạm vi nhóm này ({scope})."
    )


def week_reopened(period: str, reason: str) -> str:
    return (
        f"🔓 Đã mở khóa {period} (lý do: {reason}). Có thể duyệt các yêu cầu điều chỉnh "
        "bằng /duyet; lãnh đạo phê duyệt lại bằng /pheduyet."
    )


APPROVE_WEEK_BUTTON = "✅ Phê duyệt tuần"


def approval_stamp(name: str, at: datetime) -> str:
    """The line exports and the Word draft carry once a leader approved the week."""
    return f"Đã phê duyệt: {name}, {fmt_moment(at)}"


def correction_mark(number: int, by: str, at: datetime) -> str:
    """The history sheet's mark of a version an approved correction made."""
    return f"Điều chỉnh DC{number}, {by} duyệt {fmt_moment(at)}"


def import_correction_mark(number: int, by: str, at: datetime) -> str:
    """The history sheet's mark of a version an admin's import made in a closed week."""
    return f"Điều chỉnh DC{number}: nhập từ tệp sau khóa sổ, {by}, {fmt_moment(at)}"
