"""One configuration, one process, one database: Telegram and Zalo side by side."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from zalo_fake import TOKEN as ZALO_TOKEN
from zalo_fake import FakeZalo, update

from bot.runtime import serve
from bot.settings import Settings
from storage import Database
from testing.fake_telegram import TOKEN as TELEGRAM_TOKEN
from testing.fake_telegram import FakeBotApi, text_update
from tests.conftest import CONFIG_PATH

TG_GROUP, TG_LAN = -1001234567890, 1001
ZALO_GROUP, ZALO_THUAN = "zl-group", "zl-thuan"
REPORT = (
    "Đã cấp CCCD: 6.352\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.801\n"
    "Trẻ 6-14 tuổi: 1.240\nĐã cấp Căn cước 6-14 tuổi: 1.117"
)


def both_platforms_config(tmp_path: Path) -> Path:
    text = (
        CONFIG_PATH.read_text("utf-8")
        .replace("# telegram = -1001234567890", f"telegram = {TG_GROUP}")
        .replace('# zalo = "e3b0c44298fc1c14"', f'zalo = "{ZALO_GROUP}"')
        .replace('unit = "binh_long"', f'unit = "binh_long"\ntelegram = {TG_LAN}', 1)
        .replace('unit = "binh_thuan"', f'unit = "binh_thuan"\nzalo = "{ZALO_THUAN}"', 1)
    )
    path = tmp_path / "both.toml"
    path.write_text(text, "utf-8")
    return path


async def test_one_process_serves_telegram_and_zalo_on_one_database(
    fake_zalo: FakeZalo, tmp_path: Path
) -> None:
    telegram = FakeBotApi()
    await telegram.start()
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    settings = Settings(
        telegram_bot_token=SecretStr(TELEGRAM_TOKEN),
        telegram_api_base_url=telegram.root,
        zalo_bot_token=SecretStr(ZALO_TOKEN),
        zalo_api_base_url=fake_zalo.url,
        database_url=url,
        config_path=both_platforms_config(tmp_path),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop=stop))
    try:
        now = datetime.now(UTC)
        telegram.push(text_update(TG_GROUP, TG_LAN, f"/baocao\n{REPORT}", date=now))
        fake_zalo.updates.append(
            update(
                f"@Bot Báo Cáo 06 /baocao\n{REPORT}",
                user=ZALO_THUAN,
                chat=ZALO_GROUP,
                message_id="z-1",
                at=now,
            )
        )
        await telegram.wait_for(lambda a: any("Đã nhận báo cáo" in t for t in a.texts(TG_GROUP)))
        for _ in range(200):
            if any("Đã nhận báo cáo" in t for chat, t in fake_zalo.sent if chat == ZALO_GROUP):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no answer on Zalo: {fake_zalo.sent}")
        # Each platform answers in its own way: HTML on Telegram, plain text on Zalo.
        [zalo_answer] = [t for chat, t in fake_zalo.sent if "Đã nhận" in t]
        assert "Xã Bình Thuận" in zalo_answer
        assert "<b>" not in zalo_answer
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await telegram.stop()
    async with await Database.open(url) as db, db.unit_of_work() as uow:
        stored = {
            s.unit: s.sender.platform
            for period in await uow.submissions.periods_with_reports(5)
            for s in await uow.submissions.current_for_period(period)
        }
    assert stored == {"binh_long": "telegram", "binh_thuan": "zalo"}
