"""Per-unit quotas from the letters (issue 16): officers never type them, a new letter
replaces a unit's number from its date, and each week keeps the number that applied on its
due date. Through the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.catalogue import Catalogue, ConfigError, build_catalogue
from core.quotas import Quota, quota_on, with_quotas
from handlers.engine import Engine
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
    # Bình Long's change is against week 46 as it stood (its quota then).
    assert "111,35%  +22,27" in new


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
