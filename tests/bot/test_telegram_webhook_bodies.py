"""Malformed webhook bodies are refused with 400 and a line in the log, never a 500 with a
traceback, and the bot goes on serving (issue 19, bad input at the edges)."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from tests.bot.test_telegram import (
    GROUP,
    LAN,
    Harness,
    fake_api,
    post_update,
    text_update,
    webhook,
)

__all__ = ["fake_api", "webhook"]  # the fixtures, shared with the Telegram tests

DEEP = "[" * 50_000 + "]" * 50_000
BODIES = {
    "a JSON list": "[1, 2, 3]",
    "a string": '"hello"',
    "null": "null",
    "50,000-deep nesting": DEEP,
    "not JSON": "{update_id: 1",
    "no update_id": '{"message": {"text": "/trangthai"}}',
    "update_id not a number": '{"update_id": "7"}',
    "a message of the wrong shape": '{"update_id": 7, "message": [1, 2]}',
}


async def _post_raw(harness: Harness, body: str) -> int:
    assert harness.web is not None
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cr3t-Value"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{harness.web.port}/telegram/webhook", data=body, headers=headers
        ) as response,
    ):
        return response.status


@pytest.mark.parametrize("case", list(BODIES))
async def test_a_malformed_body_is_refused_with_400(
    webhook: Harness, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert await _post_raw(webhook, BODIES[case]) == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any("refused" in r.getMessage() for r in caplog.records)
    # The bot still answers a good update afterwards.
    good = {"update_id": 99, **text_update(GROUP, LAN, "/trangthai")}
    assert await post_update(webhook, good) == 200
    await webhook.said(GROUP, "Tình hình báo cáo")


async def test_an_update_id_seen_days_ago_is_a_new_update(webhook: Harness) -> None:
    """Telegram may start its update ids again after a quiet week: the process's memory of
    replays, like the stored record, keeps an id only for the redelivery window."""
    from telegram import Update
    from telegram.ext import ApplicationHandlerStop

    from bot.telegram.bot import REPLAY_WINDOW_S

    bot = webhook.bot
    update = Update(update_id=4242)
    await bot._drop_replayed(update, None)  # type: ignore[arg-type]
    with pytest.raises(ApplicationHandlerStop):  # a replay a moment later
        await bot._drop_replayed(update, None)  # type: ignore[arg-type]
    bot._seen[4242] -= REPLAY_WINDOW_S + 1  # as if handled days ago
    await bot._drop_replayed(update, None)  # type: ignore[arg-type]  # handled again
