"""Charts and exports leave the bot's private directory as soon as they are sent (issue 19,
files): after /bieudo and /xuat on Telegram, after a chart on Zalo (whose photo is fetched by
URL, possibly later: the media store keeps the bytes, not the file), and after a scheduled
digest posted to both platforms, a retry included. Over real HTTP against the fake servers,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from zalo_fake import (
    BOT_NAME,
    GROUP_ID,
    LEADER_ID,
    BotFactory,
    FakeZalo,
    serve,
    update,
    zalo_catalogue,
)

from bot.media import MediaStore, media_routes
from core.chat import Incoming
from handlers import files
from scheduler.jobs import planned, run_job
from storage import Database
from testing.fake_telegram import text_update
from tests.bot.test_telegram import GROUP, LAN, LEADER, REPORT, Harness, fake_api, polling

__all__ = ["fake_api", "polling"]  # the Telegram fixtures, shared with the Telegram tests

PNG = b"\x89PNG\r\n\x1a\n"
ZIP = b"PK\x03\x04"  # an xlsx is a zip archive
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _left(folder: Path | None) -> list[str]:
    assert folder is not None
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def private_dir() -> Iterator[Path]:
    folder = files.private_files_dir()
    yield folder
    files.remove_private_dir(folder)


async def test_telegram_files_are_deleted_once_sent(polling: Harness) -> None:
    api, engine = polling.api, polling.bot.engine
    api.push(text_update(GROUP, LAN, f"/baocao\n{REPORT}"))
    await polling.said(GROUP, "Đã nhận báo cáo")
    api.push(text_update(GROUP, LEADER, "/bieudo Xác thực ĐDĐT"))
    api.push(text_update(LEADER, LEADER, "/xuat"))
    await api.wait_for(lambda a: a.sent("sendPhoto") and a.sent("sendDocument"))
    # Telegram got the files' bytes (they existed when sent) ...
    [photo] = api.sent("sendPhoto")
    [document] = api.sent("sendDocument")
    assert photo.files["photo"].startswith(PNG)
    assert document.files["document"].startswith(ZIP)
    # ... and the directory is empty once the replies are sent.
    await api.wait_for(lambda _: _left(engine.files_dir) == [])


async def test_a_zalo_chart_is_fetched_after_its_file_is_gone(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database
) -> None:
    store = MediaStore("http://placeholder", db)
    runner, base = await serve(media_routes(store))
    store.public_base_url = base
    bot = make_bot(media=store)
    try:
        await bot.handle_update(update(f"@{BOT_NAME} /baocao\n{REPORT}"))
        chart = f"@{BOT_NAME} /bieudo Xác thực ĐDĐT"
        await bot.handle_update(update(chart, user=LEADER_ID, message_id="msg-2"))
        # Zalo takes no files: the export's caption goes, and its file goes too.
        await bot.handle_update(update(f"@{BOT_NAME} /xuat", user=LEADER_ID, message_id="msg-3"))
        assert _left(bot.engine.files_dir) == []
        [(chat, url, _)] = fake_zalo.photos
        assert chat == GROUP_ID
        [fetched] = fake_zalo.fetched
        assert fetched.status == 200
        assert fetched.body.startswith(PNG)
        # Zalo does not say when it fetches a photo's URL: a fetch now, with the file long
        # deleted, still gets the chart.
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            assert await response.read() == fetched.body
    finally:
        bot.engine.close()
        await runner.cleanup()


async def test_a_digest_to_both_platforms_leaves_no_files_even_after_a_retry(
    polling: Harness,
    make_bot: BotFactory,
    fake_zalo: FakeZalo,
    db: Database,
    private_dir: Path,
) -> None:
    store = MediaStore("http://placeholder", db)
    runner, base = await serve(media_routes(store))
    store.public_base_url = base
    zalo = make_bot(media=store)
    # One configuration naming the group on both platforms.
    catalogue = zalo_catalogue(polling.bot.engine.catalogue)
    saturday = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
    try:
        for officer in ("cb_binh_long", "cb_binh_thuan"):
            text = f"/baocao\n{REPORT}"
            message = Incoming("sim", "nhom_bao_cao", "group", officer, officer, text, saturday)
            await zalo.engine.handle(message)
        [digest] = [
            job
            for job in planned(catalogue, saturday, datetime(2024, 11, 18, 12, 0, tzinfo=TZ))
            if job.id.startswith("digest:")
        ]
        notifiers = [polling.bot, zalo]
        fake_zalo.refuse(GROUP_ID)  # Zalo refuses the first run: Telegram's posts are made
        made = await run_job(catalogue, db, notifiers, digest, digest.at, private_dir)
        assert made > 0
        tg_photos = polling.api.sent("sendPhoto")
        assert tg_photos
        assert all(c.files["photo"].startswith(PNG) for c in tg_photos)
        assert fake_zalo.photos == []
        assert _left(private_dir) == []
        # The retry draws the charts again: Zalo gets every one, Telegram nothing twice.
        fake_zalo.allow(GROUP_ID)
        assert await run_job(catalogue, db, notifiers, digest, digest.at, private_dir) > 0
        assert len(fake_zalo.photos) == len(tg_photos)
        assert all(f.status == 200 and f.body.startswith(PNG) for f in fake_zalo.fetched)
        assert polling.api.sent("sendPhoto") == tg_photos
        assert _left(private_dir) == []
    finally:
        await runner.cleanup()
