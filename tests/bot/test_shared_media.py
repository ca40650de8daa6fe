"""Zalo chart images behind a balancer: the URL worker A makes is fetched by Zalo from worker
B's web server (two engines, two database handles on one database), and still answered with
the same bytes; after its hour, 404. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from zalo_fake import GROUP_ID, PNG, BotFactory, FakeZalo, serve

from bot.media import MediaStore, media_routes
from core.chat import Photo, Recipient, Reply, Text
from storage import Database

GROUP = Recipient("nhom_bao_cao", "Nhóm", (("zalo", GROUP_ID),))


async def test_a_chart_url_made_by_one_worker_is_served_by_another(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database, database_url: str, tmp_path: Path
) -> None:
    start = datetime.now(UTC)
    now_b = [start]
    other = await Database.open(database_url)  # worker B's own engine and pool
    worker_b = MediaStore("http://placeholder", other, clock=lambda: now_b[0])
    runner, base_b = await serve(media_routes(worker_b))
    try:
        # Worker A serves nothing here: the balancer sends Zalo's fetch to B.
        worker_a = MediaStore(base_b, db)
        bot = make_bot(media=worker_a)
        chart = tmp_path / "chart.png"
        chart.write_bytes(PNG)
        assert await bot.post(GROUP, Reply((Text.of("Biểu đồ"), Photo(chart, "Tuần 47"))))
        [(chat, url, caption)] = fake_zalo.photos
        assert (chat, caption) == (GROUP_ID, "Tuần 47")
        assert url.startswith(f"{base_b}/media/")
        [fetched] = fake_zalo.fetched
        assert (fetched.status, fetched.content_type, fetched.body) == (200, "image/png", PNG)
        now_b[0] = start + timedelta(hours=1, seconds=1)  # expired: any worker answers 404
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 404
    finally:
        await runner.cleanup()
        await other.close()
