"""The Zalo Bot API client against the fake server over real HTTP: envelopes, retries with
backoff (429 with retry_after, 5xx, timeouts, refused connections), and a token never logged."""

from __future__ import annotations

import logging
import socket

import pytest
from zalo_fake import TOKEN, FakeZalo, Sleeps

from bot.zalo.client import ZaloApiError, ZaloClient, ZaloUnavailable


def client(fake: FakeZalo, sleeps: Sleeps, **options: object) -> ZaloClient:
    return ZaloClient(TOKEN, fake.url, sleep=sleeps, **options)  # type: ignore[arg-type]


async def test_calls_post_json_to_bot_token_method_and_return_the_result(
    fake_zalo: FakeZalo, sleeps: Sleeps
) -> None:
    zalo = client(fake_zalo, sleeps)
    try:
        me = await zalo.get_me()
        await zalo.send_message("c1", "Xin chào")
        await zalo.set_webhook("https://example.vn/zalo/webhook", "s3cret-token")
    finally:
        await zalo.aclose()
    # The documented shape: no display name.
    assert me == {
        "id": "1459232241454765289",
        "account_name": "bot.VDKyGxQvc",
        "account_type": "BASIC",
        "can_join_groups": False,
    }
    assert fake_zalo.calls == [
        ("getMe", {}),
        ("sendMessage", {"chat_id": "c1", "text": "Xin chào"}),
        ("setWebhook", {"url": "https://example.vn/zalo/webhook", "secret_token": "s3cret-token"}),
    ]
    assert sleeps.asked == []


async def test_429_with_retry_after_then_success_loses_nothing(
    fake_zalo: FakeZalo, sleeps: Sleeps
) -> None:
    fake_zalo.fail("sendMessage", 429, parameters={"retry_after": 7})
    zalo = client(fake_zalo, sleeps)
    try:
        result = await zalo.send_message("c1", "tin 1")
    finally:
        await zalo.aclose()
    assert result["message_id"] == "m1"
    assert fake_zalo.methods() == ["sendMessage", "sendMessage"]
    assert fake_zalo.sent == [("c1", "tin 1")]
    assert sleeps.asked == [7.0]


async def test_server_errors_back_off_exponentially_then_succeed(
    fake_zalo: FakeZalo, sleeps: Sleeps
) -> None:
    fake_zalo.fail("sendMessage", 502, times=3)
    zalo = client(fake_zalo, sleeps, backoff=0.5)
    try:
        await zalo.send_message("c1", "tin")
    finally:
        await zalo.aclose()
    assert sleeps.asked == [0.5, 1.0, 2.0]
    assert fake_zalo.sent == [("c1", "tin")]


async def test_retries_are_bounded(fake_zalo: FakeZalo, sleeps: Sleeps) -> None:
    fake_zalo.fail("sendMessage", 500, times=10)
    zalo = client(fake_zalo, sleeps, max_attempts=3)
    try:
        with pytest.raises(ZaloUnavailable, match="sendMessage: server error 500") as info:
            await zalo.send_message("c1", "tin")
    finally:
        await zalo.aclose()
    assert info.value.status == 500
    assert fake_zalo.methods() == ["sendMessage"] * 3
    assert len(sleeps.asked) == 2


async def test_a_refusal_is_raised_at_once_with_its_description(
    fake_zalo: FakeZalo, sleeps: Sleeps
) -> None:
    fake_zalo.fail("sendMessage", 400, description="chat not found")
    zalo = client(fake_zalo, sleeps)
    try:
        with pytest.raises(ZaloApiError, match="chat not found") as info:
            await zalo.send_message("nobody", "tin")
    finally:
        await zalo.aclose()
    assert (info.value.status, info.value.error_code) == (400, 400)
    assert fake_zalo.methods() == ["sendMessage"]


async def test_ok_false_with_http_200_is_an_error(fake_zalo: FakeZalo, sleeps: Sleeps) -> None:
    fake_zalo.answer("getMe", 200, {"ok": False, "error_code": 401, "description": "bad"})
    zalo = client(fake_zalo, sleeps)
    try:
        with pytest.raises(ZaloApiError, match="getMe: bad"):
            await zalo.get_me()
    finally:
        await zalo.aclose()


async def test_a_timeout_is_retried(fake_zalo: FakeZalo, sleeps: Sleeps) -> None:
    fake_zalo.slow("sendMessage", 2.0)
    zalo = client(fake_zalo, sleeps, timeout=0.2)
    try:
        await zalo.send_message("c1", "tin")
    finally:
        await zalo.aclose()
    assert sleeps.asked == [0.5]
    assert ("c1", "tin") in fake_zalo.sent


async def test_empty_long_poll_408_is_no_update(fake_zalo: FakeZalo, sleeps: Sleeps) -> None:
    fake_zalo.updates.append({"event_name": "message.text.received", "message": {}})
    zalo = client(fake_zalo, sleeps)
    try:
        first = await zalo.get_updates(wait=1)
        second = await zalo.get_updates(wait=1)
    finally:
        await zalo.aclose()
    assert first == [{"event_name": "message.text.received", "message": {}}]
    assert second == []
    assert fake_zalo.calls[0] == ("getUpdates", {"timeout": "1"})
    assert sleeps.asked == []


async def test_overlong_text_is_refused_before_sending(fake_zalo: FakeZalo, sleeps: Sleeps) -> None:
    zalo = client(fake_zalo, sleeps)
    try:
        with pytest.raises(ValueError, match="2000"):
            await zalo.send_message("c1", "x" * 2001)
    finally:
        await zalo.aclose()
    assert fake_zalo.calls == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_token_is_never_logged(
    fake_zalo: FakeZalo, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_zalo.fail("sendMessage", 429, retry_after=1)
    fake_zalo.fail("sendMessage", 503)
    fake_zalo.fail("getMe", 401, description="Unauthorized")
    zalo = client(fake_zalo, sleeps)
    dead = ZaloClient(TOKEN, f"http://127.0.0.1:{_closed_port()}", sleep=sleeps, max_attempts=2)
    try:
        await zalo.send_message("c1", "tin")
        await zalo.get_updates(wait=1)
        with pytest.raises(ZaloApiError):
            await zalo.get_me()
        with pytest.raises(ZaloUnavailable) as info:
            await dead.get_me()
        logging.getLogger("test").exception("failure seen by the caller", exc_info=info.value)
    finally:
        await zalo.aclose()
        await dead.aclose()
    assert caplog.records, "the retries were logged"
    secret = TOKEN.split(":", 1)[1]
    for record in caplog.records:
        assert secret not in record.getMessage()
    assert secret not in caplog.text
    assert "sendMessage" in caplog.text
    assert TOKEN not in repr(zalo)
