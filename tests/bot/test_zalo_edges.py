"""Zalo's webhook at the edges: a body that is not an update is refused with 400 (never a 500
with a traceback), and a message whose `date` cannot be a send time is refused with a line
in the log instead of being filed under some week or dropped in silence (issue 19)."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from zalo_fake import BotFactory, FakeZalo, dumps, serve, update

from bot.zalo.bot import SECRET_HEADER, WEBHOOK_PATH, zalo_routes

SECRET = "webhook-secret-1234"
BODIES = {
    "a JSON list": b"[1, 2, 3]",
    "a string": b'"hello"',
    "null": b"null",
    "50,000-deep nesting": b"[" * 50_000 + b"]" * 50_000,
}
DATES = {"NaN": "NaN", "1e300": 1e300, "-1e15": -1e15, "year 1970": 0}


@pytest.mark.parametrize("case", list(BODIES))
async def test_a_body_that_is_not_an_update_is_refused_with_400(
    make_bot: BotFactory, fake_zalo: FakeZalo, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    runner, base = await serve(zalo_routes(make_bot(), SECRET))
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                base + WEBHOOK_PATH, data=BODIES[case], headers={SECRET_HEADER: SECRET}
            ) as response,
        ):
            assert response.status == 400
    finally:
        await runner.cleanup()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert fake_zalo.sent == []


@pytest.mark.parametrize("case", list(DATES))
async def test_an_impossible_date_is_refused_in_the_log(
    make_bot: BotFactory, fake_zalo: FakeZalo, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = update("/trangthai", message_id=f"d-{case}")
    body["message"]["date"] = DATES[case]
    runner, base = await serve(zalo_routes(make_bot(), SECRET))
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                base + WEBHOOK_PATH, data=dumps(body), headers={SECRET_HEADER: SECRET}
            ) as response,
        ):
            assert response.status == 200  # received; nothing to deliver again
    finally:
        await runner.cleanup()
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1
    assert refused[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.exc_info]
    assert fake_zalo.sent == []
