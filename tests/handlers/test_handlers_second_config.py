"""The second shipped config, config/quang_ngai_2024.toml (the province's working group, from
its Q1/2024 conclusions, seed 003), loaded and fed Bình Sơn's report of December 2023 (seed 001,
addressed to that working group) through the real engine and storage: the rates come back as
that letter prints them, to the digit, in the province's bands."""

from __future__ import annotations

import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.catalogue import Catalogue, build_catalogue
from core.ranking import rank
from core.tiers import Band, Tiers
from handlers.engine import Engine
from storage import Database
from tests.conftest import ChatBot

CONFIG = Path(__file__).resolve().parents[2] / "config" / "quang_ngai_2024.toml"
# Seed 001 counts "tính đến nay" in its December 2023 report; sent on the Saturday before the
# due Monday 11/12/2023 (week 50).
SENT = datetime(2023, 12, 9, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
# Section I.6: CCCD issued 172.378, e-ID verified 105.350 ("đạt tỉ lệ 61,11%"), activated
# 88.870 ("đạt tỉ lệ 84,35%"); section I.5: 17.281/18.572 visits by chip card or VNeID.
REPORT = (
    "/baocao\n"
    "Đã cấp CCCD: 172.378\n"
    "Xác thực định danh điện tử: 105.350\n"
    "Kích hoạt thành công: 88.870\n"
    "Lượt khám chữa bệnh BHYT: 18.572\n"
    "Đã quét thành công: 17.281"
)


@pytest.fixture(scope="module")
def province() -> Catalogue:
    return build_catalogue(tomllib.loads(CONFIG.read_text(encoding="utf-8")))


@pytest.fixture
def chat(db: Database, province: Catalogue) -> ChatBot:
    return ChatBot(Engine(province, db)).at(SENT)


def test_the_province_config_loads(province: Catalogue) -> None:
    assert len(province.units) == 13
    assert province.unit("binh_son").name == "Huyện Bình Sơn"
    assert province.match_unit("Bình Sơn").unit == province.unit("binh_son")
    assert (province.area_level, province.area_name, province.scope) == (
        "tỉnh",
        "Quảng Ngãi",
        "toàn tỉnh",
    )
    assert province.warnings == ()
    targets = {i.code: i.target for i in province.ranked_indicators}
    assert targets == {
        "eid_verified": Decimal(80),
        "health_card": Decimal(80),
        "non_cash": Decimal(30),
        "records_digitised": Decimal(80),
    }
    eid = province.indicator("eid_verified")
    assert eid.tiers == Tiers(Decimal(80), Decimal(90))
    assert eid.truncate
    assert province.indicator("eid_activated").truncate
    assert not province.indicator("health_card").truncate


async def test_binh_son_s_report_gives_the_letter_s_rates(chat: ChatBot) -> None:
    ack = await chat.send("cb_binh_son", REPORT)
    assert ack.startswith("✅ Đã nhận báo cáo tuần 50/2023 của Huyện Bình Sơn"), ack
    # As seed 001 prints them (the digits past the second decimal dropped).
    assert "Xác thực ĐDĐT: 61,11% = 105.350/172.378" in ack
    assert "Kích hoạt ĐDĐT: 84,35% = 88.870/105.350" in ack
    # The letter's health-card counts give 93,05 %; it prints 91,91 %, which no rounding of
    # these counts gives (its district and commune lines, 11.323/12.260 and 5.958/6.312, add
    # up to the same 17.281/18.572): the bot says what the counts say.
    assert "KCB bằng CCCD: 93,05% = 17.281/18.572" in ack


async def test_the_ranking_puts_binh_son_in_the_critical_band(chat: ChatBot) -> None:
    await chat.send("cb_binh_son", REPORT)
    ranking = await chat.send("to_pho", "/xephang xác thực")
    assert "🔴 Đơn vị dưới 80% (1)" in ranking
    assert "61,11%" in ranking
    assert "Chưa có số liệu (12)" in ranking
    status = await chat.send("to_pho", "/trangthai")
    assert "Đã báo cáo: 1/13 đơn vị" in status
    assert "Tổng hợp toàn tỉnh đã báo cáo (tỉ lệ của tổng):" in status


def test_the_bands_of_the_letter_s_rates(province: Catalogue) -> None:
    values = {
        "citizen_id_issued": 172_378,
        "eid_verified": 105_350,
        "eid_activated": 88_870,
    }
    eid = province.indicator("eid_verified")
    [row] = rank(province, eid, {"binh_son": values}).rows
    assert str(row.ratio.rate) == "61.11"
    assert row.met is False
    assert eid.tiers is not None
    assert eid.tiers.band(row.ratio) is Band.CRITICAL
    [extra] = row.extras
    assert extra is not None
    assert str(extra.rate) == "84.35"
