"""The media store behind `PUBLIC_BASE_URL/media/…`, and the Zalo settings and start-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import aiohttp
import pytest
from pydantic import ValidationError
from zalo_fake import PNG, serve

from bot.app import App
from bot.media import MAX_BYTES, MediaStore, media_routes
from bot.settings import Settings
from bot.zalo.bot import WEBHOOK_PATH, create_zalo, start_zalo
from core.catalogue import Catalogue
from handlers.engine import Engine
from handlers.maintenance import prune
from storage import Database

T0 = datetime(2024, 11, 16, 2, 0, tzinfo=UTC)


async def test_tokens_are_unguessable_and_expire(db: Database) -> None:
    now = [T0]
    store = MediaStore("https://baocao.example.vn/", db, ttl=60, clock=lambda: now[0])
    first, second = await store.add_bytes(PNG), await store.add_bytes(PNG)
    assert first.startswith("https://baocao.example.vn/media/")
    assert first != second
    token = first.rsplit("/", 1)[1].removesuffix(".png")
    assert len(token) == 32  # secrets.token_urlsafe(24)
    assert await store.get(token) == PNG
    assert await store.get("guessed") is None
    assert await store.count() == 2
    now[0] = T0 + timedelta(seconds=60)
    assert await store.get(token) is None
    assert await store.count() == 0


async def test_expired_files_are_pruned_with_the_daily_maintenance(
    db: Database, catalogue: Catalogue
) -> None:
    store = MediaStore("https://baocao.example.vn/", db, ttl=60, clock=lambda: T0)
    kept = await store.add_bytes(PNG)
    async with db.unit_of_work() as uow:
        await uow.media.add("x" * 32, "image/png", b"old", T0 - timedelta(seconds=1))
        await uow.commit()
    pruned = await prune(catalogue, db, T0)
    assert pruned.media == 1
    async with db.unit_of_work() as uow:
        assert await uow.media.get("x" * 32, T0 - timedelta(hours=1)) is None  # gone
        token = kept.rsplit("/", 1)[1].removesuffix(".png")
        assert await uow.media.get(token, T0) == ("image/png", PNG)  # not yet expired


async def test_a_file_far_bigger_than_a_chart_is_refused(db: Database) -> None:
    store = MediaStore("https://baocao.example.vn/", db)
    with pytest.raises(ValueError, match="at most"):
        await store.add_bytes(b"x" * (MAX_BYTES + 1))
    assert await store.count() == 0


async def test_routes_serve_files_even_once_deleted_and_404_unknown_or_expired(
    tmp_path: Path, db: Database
) -> None:
    now = [T0]
    store = MediaStore("http://placeholder", db, ttl=10, clock=lambda: now[0])
    runner, base = await serve(media_routes(store))
    store.public_base_url = base
    chart = tmp_path / "c.png"
    chart.write_bytes(PNG)
    try:
        url = await store.url_for(chart)
        # The bytes were read when the URL was made: the file goes right after the send.
        chart.unlink()
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as response:
                assert response.status == 200
                assert response.content_type == "image/png"
                assert await response.read() == PNG
            async with http.get(f"{base}/media/nothing.png") as response:
                assert response.status == 404
            now[0] = T0 + timedelta(seconds=11)
            async with http.get(url) as response:
                assert response.status == 404
        assert await store.count() == 0
    finally:
        await runner.cleanup()


def test_media_store_needs_an_http_url() -> None:
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        MediaStore("baocao.example.vn", cast(Database, None))


def test_zalo_settings_defaults_and_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZALO_BOT_TOKEN", "ZALO_WEBHOOK_SECRET", "PUBLIC_BASE_URL", "ZALO_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.zalo_bot_token is None
    assert settings.zalo_api_base_url == "https://bot-api.zaloplatforms.com"
    assert settings.zalo_monthly_limit == 3000
    monkeypatch.setenv("ZALO_WEBHOOK_SECRET", "short")
    with pytest.raises(ValidationError, match="8 to 256"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("ZALO_WEBHOOK_SECRET", "")
    monkeypatch.setenv("PUBLIC_BASE_URL", "baocao.example.vn")
    with pytest.raises(ValidationError, match="https://"):
        Settings(_env_file=None)  # type: ignore[call-arg]


async def test_start_zalo_is_off_without_a_token_and_picks_the_mode(
    db: Database, catalogue: Catalogue
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    app = App(settings, catalogue, db, Engine(catalogue, db))
    assert await start_zalo(app, settings, None) is None

    hooked = Settings(
        _env_file=None,  # type: ignore[call-arg]
        zalo_bot_token="1:abc",
        zalo_webhook_secret="secret-1234",
        public_base_url="https://baocao.example.vn/",
        zalo_monthly_limit=2000,
    )
    bot = create_zalo(app, hooked, None)
    assert bot is not None
    assert bot.webhook_url == "https://baocao.example.vn" + WEBHOOK_PATH
    assert bot.webhook_secret == "secret-1234"
    assert bot.monthly_limit == 2000
    await bot.client.aclose()

    polling = create_zalo(app, Settings(_env_file=None, zalo_bot_token="1:abc"), None)  # type: ignore[call-arg]
    assert polling is not None
    assert polling.webhook_url is None
    await polling.client.aclose()
