"""Per-unit quotas from the letters (issue 16): officers never type them, a new letter
replaces a unit's number from its date, and each week keeps the number that applied on its
due date. Through the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.catalogue import Catalogue, ConfigError, PaceRules, build_catalogue
from core.chat import render_plain
from core.pace import Point
from core.periods import Period
from core.quotas import Quota, quota_on, with_quotas
from core.schedule import Job, JobKind
from handlers.digest import build_digest, digest_replies
from handlers.engine import Engine
from handlers.reminders import job_posts
from render import charts
from storage import Database
from tests.conftest import CONFIG_PATH, ChatBot

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FRIDAY_46 = datetime(2024, 11, 8, 9, 0, tzinfo=TZ)  # week 46, due Monday 2024-11-11
FRIDAY_47 = datetime(2024, 11, 15, 9, 0, tzinfo=TZ)  # week 47, due Monday 2024-11-18
BODY = """/baocao
Đã cấp CCCD: 7.082
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: {activated}
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286"""

# A letter of July gives every commune a number of accounts to activate; a letter of
# 12/11/2024 lowers Bình Long's (Bình Thuận keeps the July number).
QUOTA_TABLES: dict[str, Any] = {
    "fields": [
        {"code": "accounts_quota", "label": "Chỉ tiêu tài khoản ĐDĐT", "required": False},
    ],
    "indicators": [
        {
            "code": "accounts",
            "name": "Tài khoản định danh điện tử đã kích hoạt so với chỉ tiêu giao",
            "short": "Tài khoản",
            "numerator": ["eid_activated"],
            "denominator": ["accounts_quota"],
            "target": 100,
            "deadline": date(2024, 12, 31),
        }
    ],
    "quotas": [
        {
            "field": "accounts_quota",
            "from": date(2024, 7, 1),
            "letter": "Công văn số 1234/CAH-TTĐA06 ngày 01/7/2024",
            "values": {"binh_long": 5000, "binh_thuan": 4000},
        },
        {
            "field": "accounts_quota",
            "from": date(2024, 11, 12),
            "letter": "Công văn số 3600/CAH-TTĐA06 ngày 12/11/2024",
            "values": {"binh_long": 4000},
        },
    ],
}


def with_tables(extra: dict[str, Any]) -> dict[str, Any]:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    for key, items in extra.items():
        data[key] = [*data.get(key, []), *items]
    return data


@pytest.fixture
def quota_catalogue() -> Catalogue:
    return build_catalogue(with_tables(QUOTA_TABLES))


@pytest.fixture
def quota_chat(db: Database, quota_catalogue: Catalogue) -> ChatBot:
    return ChatBot(Engine(quota_catalogue, db))


def test_the_quota_of_a_week_is_the_latest_letter_dated_on_or_before_its_due_date(
    quota_catalogue: Catalogue,
) -> None:
    quotas = quota_catalogue.quotas
    assert quota_on(quotas, "accounts_quota", "binh_long", date(2024, 6, 30)) is None
    assert quota_on(quotas, "accounts_quota", "binh_long", date(2024, 11, 11)) == quotas[0]
    assert quota_on(quotas, "accounts_quota", "binh_long", date(2024, 11, 12)) == quotas[1]
    # A later letter that does not name a unit leaves its number as it was.
    assert quota_on(quotas, "accounts_quota", "binh_thuan", date(2024, 12, 1)) == quotas[0]
    reports = {"binh_long": {"eid_activated": 4454, "accounts_quota": 1}, "chau_o": {"x": 1}}
    filled = with_quotas(quotas, date(2024, 11, 18), reports)
    # The letter's number replaces a typed one; a unit without a quota is left as it was.
    assert filled == {
        "binh_long": {"eid_activated": 4454, "accounts_quota": 4000},
        **{"chau_o": {"x": 1}},
    }


async def test_ranking_of_an_old_week_keeps_the_old_quota_and_a_new_week_the_new(
    quota_chat: ChatBot,
) -> None:
    for moment in (FRIDAY_46, FRIDAY_47):
        quota_chat.at(moment)
        for officer in ("cb_binh_long", "cb_binh_thuan"):
            # Officers type only what they did: the quota comes from the letter.
            answer = await quota_chat.send(officer, BODY.format(activated="4.454"))
            assert answer.startswith("✅"), answer
    # The reply to the report already counts against the quota (Bình Thuận: 4.454/4.000).
    assert "Tài khoản: 111,35% = 4.454/4.000" in answer
    old = await quota_chat.send("lanh_dao", "/xephang 46 tài khoản", "dm", "private")
    new = await quota_chat.send("lanh_dao", "/xephang 47 tài khoản", "dm", "private")
    # Week 46 (due 11/11): Bình Long 4.454 of 5.000; week 47 (due 18/11): of 4.000.
    assert "89,08" in old
    assert "5.000" in old
    assert "111,35" in new
    assert "5.000" not in new
    # Passing a quota is good news: both counted as met, nobody refused.
    assert "Đơn vị đã hoàn thành chỉ tiêu (2)" in new
    # The history keeps each week's quota; the week's totals count against the quotas too.
    history = await quota_chat.send("lanh_dao", "/lichsu Bình Long", "dm", "private")
    assert "46/2024   89,08%\n47/2024  111,35%  +22,27" in history
    status = await quota_chat.send("lanh_dao", "/trangthai", "dm", "private")
    assert "Tài khoản         8.908/8.000  111,35%" in status
    # Bình Long's change is against week 46 as it stood (its quota then).
    assert "111,35%  +22,27" in new


async def test_a_rule_sees_the_letters_quota_and_passing_it_is_a_warning(db: Database) -> None:
    """`done <= quota` as the letters mean it: a warning, stored, never a refusal."""
    data = with_tables(QUOTA_TABLES)
    data["rules"] = [
        *data.get("rules", []),
        {"expr": "eid_activated <= accounts_quota", "severity": "warning"},
    ]
    chat = ChatBot(Engine(build_catalogue(data), db))
    chat.at(FRIDAY_47)
    over = await chat.send("cb_binh_long", BODY.format(activated="4.454"))
    assert over.startswith("✅"), over
    assert "4.454" in over
    assert "4.000" in over  # the quota of the letter of 12/11, named in the warning
    async with db.unit_of_work() as uow:
        stored = await uow.submissions.current("binh_long", "2024-W47")
    assert stored is not None
    assert stored.values["eid_activated"] == 4454
    assert "accounts_quota" not in stored.values  # the letter's number is never stored
    assert any("4.000" in w for w in stored.warnings)
    under = await chat.send("cb_binh_thuan", BODY.format(activated="3.900"))
    async with db.unit_of_work() as uow:
        kept = await uow.submissions.current("binh_thuan", "2024-W47")
    assert kept is not None
    assert kept.warnings == ()
    assert "⚠️" not in under


async def test_the_report_template_never_asks_for_a_quota(quota_chat: ChatBot) -> None:
    template = await quota_chat.send("cb_binh_long", "/mau")
    assert "Chỉ tiêu tài khoản" not in template
    assert "Đã kích hoạt ĐDĐT" in template


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"field": "nowhere"}, "quotas[0].field: trường 'nowhere' không có trong [[fields]]"),
        ({"field": "eid_verified"}, "quotas[0].field: trường 'eid_verified' do công văn giao"),
        ({"values": {"xa_la": 3}}, "quotas[0].values: đơn vị 'xa_la' không có trong [[units]]"),
        ({"values": {"binh_long": 0}}, "quotas[0].values: phải là bảng mã đơn vị = số nguyên"),
        ({"from": "2024-07-01"}, "quotas[0].from: phải là ngày dạng 2024-07-01"),
    ],
)
def test_a_wrong_quota_is_one_line_naming_its_key(change: dict[str, Any], message: str) -> None:
    tables = dict(QUOTA_TABLES)
    tables["quotas"] = [{**QUOTA_TABLES["quotas"][0], **change}]
    with pytest.raises(ConfigError) as error:
        build_catalogue(with_tables(tables))
    assert str(error.value).startswith(message)


def test_two_letters_of_one_field_need_two_dates() -> None:
    tables = dict(QUOTA_TABLES)
    tables["quotas"] = [QUOTA_TABLES["quotas"][0]] * 2
    with pytest.raises(ConfigError, match=r"quotas\[1\]\.from"):
        build_catalogue(with_tables(tables))


def test_quota_values_are_kept_as_given() -> None:
    q = Quota("f", date(2024, 1, 1), "", {"a": 14975})
    assert with_quotas([q], date(2024, 1, 1), {"a": {}}) == {"a": {"f": 14975}}
    assert with_quotas([], date(2024, 1, 1), {"a": {}}) == {"a": {}}


# --- milestones and daily quotas ----------------------------------------------------------------

FRIDAY_45 = datetime(2024, 11, 1, 9, 0, tzinfo=TZ)  # week 45, due Monday 2024-11-04
SATURDAY_47 = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
MILESTONES = [
    # The area's 8.000 accounts by 5/11 (missed: 6.000 by then), Bình Long's own 3.000 by
    # 5/11 (reached), and 100 % of the quota by 15/12 for the area and every unit.
    {"date": date(2024, 11, 5), "count": 8000},
    {"date": date(2024, 11, 5), "count": 3000, "unit": "binh_long"},
    {"date": date(2024, 12, 15), "rate": 100},
]


def milestone_tables(pace: dict[str, str] | None = None) -> dict[str, Any]:
    indicator = {**QUOTA_TABLES["indicators"][0], "milestones": MILESTONES}
    quotas = [{**QUOTA_TABLES["quotas"][0], "values": {"binh_long": 4000, "binh_thuan": 4000}}]
    data = with_tables({**QUOTA_TABLES, "indicators": [indicator], "quotas": quotas})
    if pace is not None:
        data["pace"] = pace
    return data


async def _three_weeks(chat: ChatBot) -> None:
    for moment, activated in ((FRIDAY_45, "3.000"), (FRIDAY_46, "3.300"), (FRIDAY_47, "3.600")):
        chat.at(moment)
        for officer in ("cb_binh_long", "cb_binh_thuan"):
            answer = await chat.send(officer, BODY.format(activated=activated))
            assert answer.startswith("✅"), answer
    chat.at(SATURDAY_47)


def _block(answer: str, head: str) -> str:
    """The lines of one indicator in a /tiendo answer."""
    return answer.split(head, 1)[1].split("\n•", 1)[0]


async def test_pace_shows_the_last_milestone_missed_or_reached_and_the_next_with_its_daily_quota(
    db: Database,
) -> None:
    chat = ChatBot(Engine(build_catalogue(milestone_tables()), db))
    await _three_weeks(chat)
    area = _block(await chat.send("lanh_dao", "/tiendo", "dm", "private"), "• Tài khoản:")
    # 3.000 + 3.000 reported by 5/11: 75 % of the area's 8.000.
    assert "mốc 8.000 đến 05/11/2024: ❌ chưa đạt (75,00%)" in area
    # 7.200 of 8.000 now; 800 left in the 29 days to 15/12: 27,6 a day, rounded up.
    assert "mốc tiếp theo: 100% đến 15/12/2024 (còn 29 ngày, cần thêm 800, 28/ngày)" in area
    unit = _block(await chat.send("lanh_dao", "/tiendo Bình Long", "dm", "private"), "• Tài khoản:")
    assert "mốc 3.000 đến 05/11/2024: ✅ đạt (100,00%)" in unit
    assert "mốc 8.000" not in unit  # the area's count is not the unit's
    # 400 left: 13,8 a day to the milestone; 8,9 a day (62,2 a week) to the deadline 31/12.
    assert "mốc tiếp theo: 100% đến 15/12/2024 (còn 29 ngày, cần thêm 400, 14/ngày)" in unit
    assert "cần 9/ngày (63/tuần)" in unit
    # Its actual pace beside it: 600 in two weeks, 300 a week, 42,9 a day.
    assert "tốc độ hiện tại: 300/tuần (≈ 43/ngày)" in unit


async def test_working_days_and_rounding_to_the_nearest_from_the_config(db: Database) -> None:
    data = milestone_tables({"days": "working", "rounding": "nearest"})
    chat = ChatBot(Engine(build_catalogue(data), db))
    await _three_weeks(chat)
    unit = _block(await chat.send("lanh_dao", "/tiendo Bình Long", "dm", "private"), "• Tài khoản:")
    # 20 working days from Monday 18/11 to Friday 13/12: 400 / 20 = 20 exactly.
    assert "(còn 20 ngày làm việc, cần thêm 400, 20/ngày làm việc)" in unit
    # 300 a week over 5 working days: 60 a working day.
    assert "tốc độ hiện tại: 300/tuần (≈ 60/ngày làm việc)" in unit


async def test_digest_shows_the_areas_milestones_and_the_units_furthest_behind(
    db: Database,
) -> None:
    cat = build_catalogue(milestone_tables())
    chat = ChatBot(Engine(cat, db))
    await _three_weeks(chat)
    week = Period(2024, 47)
    async with db.unit_of_work() as uow:
        digest = await build_digest(cat, uow, week, cat.calendar.due_at(week))
    text = "\n\n".join(render_plain(r.blocks) for r in digest_replies(cat, digest))
    plan = text.split("• Tài khoản:", 1)[1]
    assert "mốc 8.000 đến 05/11/2024: ❌ chưa đạt (75,00%)" in plan
    # On the due date 18/11, 27 days before 15/12: 800 / 27 = 29,6 -> 30 a day.
    assert "mốc tiếp theo: 100% đến 15/12/2024 (còn 27 ngày, cần thêm 800, 30/ngày)" in plan
    assert "📌 Chỉ tiêu trong ngày của các đơn vị còn thấp nhất:" in plan
    assert (
        "– Bình Long: cần 15/ngày đến 15/12/2024; thực tế 43/ngày\n"
        "  – Bình Thuận: cần 15/ngày đến 15/12/2024; thực tế 43/ngày"
    ) in plan


def test_progress_chart_marks_the_last_and_the_next_milestone() -> None:
    cat = build_catalogue(milestone_tables())
    ind = cat.indicator("accounts")
    history = [
        Point(date(2024, 11, 4), 6000, 8000),
        Point(date(2024, 11, 11), 6600, 8000),
        Point(date(2024, 11, 18), 7200, 8000),
    ]
    spec = charts.progress_spec(ind, history, "huyện", date(2024, 11, 18))
    assert spec is not None
    assert spec.milestones == (
        (date(2024, 11, 5), 8000, "mốc 05/11: 8.000", False),
        (date(2024, 12, 15), 8000, "mốc 15/12: 8.000", None),
    )
    unit = charts.progress_spec(ind, history[:1], "Bình Long", date(2024, 11, 18), "binh_long")
    assert unit is not None
    assert unit.milestones[0] == (date(2024, 11, 5), 3000, "mốc 05/11: 3.000", True)
    # What is needed a day toward the deadline 31/12 (800 left): 43 days, 18,6 -> 19; 31
    # working days, 25,8 -> 26.
    assert spec.subtitle.endswith("cần 19/ngày")
    working = charts.progress_spec(
        ind, history, "huyện", date(2024, 11, 18), None, PaceRules(working_days=True)
    )
    assert working is not None
    assert working.subtitle.endswith("cần 26/ngày làm việc")
    # Drawn without error, milestones included.
    assert charts.render_png(spec).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("pace", "group", "unit"),
    [
        # 30 days from 1/12 to 31/12: 800 / 30 = 26,7 -> 27 a day; Bình Long 400 / 30 -> 14.
        (None, "cần trung bình 27/ngày.", "(cần 14/ngày)"),
        # 22 working days (2/12 to 31/12, weekends out): 36,4 -> 37; 18,2 -> 19.
        ({"days": "working"}, "cần trung bình 37/ngày làm việc.", "(cần 19/ngày làm việc)"),
    ],
)
async def test_countdown_counts_the_daily_quota_as_configured(
    db: Database, pace: dict[str, str] | None, group: str, unit: str
) -> None:
    cat = build_catalogue(milestone_tables(pace))
    chat = ChatBot(Engine(cat, db))
    await _three_weeks(chat)
    now = datetime(2024, 12, 1, 8, 0, tzinfo=TZ)
    job = Job(now, JobKind.COUNTDOWN, "nhom_bao_cao", cat.calendar.current(now), "accounts:30")
    [post] = await job_posts(cat, db, job, now)
    text = render_plain(post.message.blocks)
    assert group in text
    assert f"Bình Long: 90,00%, còn thiếu 400 {unit}" in text
