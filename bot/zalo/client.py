"""A small async client for the Zalo Bot API over httpx.

Every call is `POST {base}/bot{TOKEN}/{method}` with a JSON body, answered with
`{"ok": true, "result": …}` or `{"ok": false, "error_code": …, "description": …}`.
Rate limits (429), server errors (5xx), timeouts and connection errors are retried with
exponential backoff; anything else raises `ZaloApiError` at once. The token is part of every
URL, so nothing here logs a URL or an httpx exception text: only method names.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from bot.logs import hide_secret

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
MAX_TEXT = 2000  # sendMessage's limit, in characters
# getUpdates' "nothing arrived during the long poll": `{"ok": false, "error_code": 408,
# "description": "Request timeout"}` (the error table at https://bot.zapps.me/docs/error-code/),
# with HTTP 200 or 408; not an error.
NO_UPDATE = 408
# The same table gives error code 403 as "Internal server error" (not Telegram's "forbidden"):
# a failure on Zalo's side, retried like a 5xx.
SERVER_ERROR_CODE = 403
MAX_RETRY_AFTER = 300.0  # never sleep longer than this on a server's say-so

Sleep = Callable[[float], Awaitable[None]]


class ZaloError(Exception):
    """A call failed. `method` names the API method; never carries the token."""

    def __init__(
        self,
        method: str,
        description: str,
        status: int | None = None,
        error_code: int | None = None,
    ) -> None:
        super().__init__(f"{method}: {description}")
        self.method = method
        self.description = description
        self.status = status
        self.error_code = error_code


class ZaloApiError(ZaloError):
    """The API refused the call (`ok: false` or a 4xx): retrying would not help."""


class ZaloUnavailable(ZaloError):
    """Rate limits, server errors or the network outlasted every retry."""


class _Retry(Exception):
    def __init__(self, reason: str, status: int | None = None, delay: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.delay = delay


class ZaloClient:
    def __init__(
        self,
        token: SecretStr | str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 20.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        if not secret or "/" in secret:
            raise ValueError("ZALO_BOT_TOKEN is empty or malformed")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._token = secret
        hide_secret(secret)  # httpx logs request URLs, and Zalo's carry the token
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout
        )
        self._timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"ZaloClient(base_url={str(self._http.base_url)!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        method: str,
        payload: Mapping[str, Any] | None = None,
        *,
        http_timeout: float | None = None,
    ) -> Any:
        """The call's `result`. Raises ZaloApiError or ZaloUnavailable."""
        last: _Retry | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await self._once(method, payload, http_timeout)
            except _Retry as retry:
                last = retry
                if attempt == self.max_attempts:
                    break
                delay = retry.delay
                if delay is None:
                    delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                log.warning(
                    "Zalo %s: %s (attempt %d of %d), retrying in %.1f s",
                    method,
                    retry.reason,
                    attempt,
                    self.max_attempts,
                    delay,
                )
                await self._sleep(delay)
        assert last is not None
        raise ZaloUnavailable(method, last.reason, last.status)

    async def _once(
        self, method: str, payload: Mapping[str, Any] | None, http_timeout: float | None
    ) -> Any:
        try:
            response = await self._http.post(
                f"/bot{self._token}/{method}",
                json=dict(payload or {}),
                timeout=http_timeout if http_timeout is not None else self._timeout,
            )
        except httpx.TimeoutException:
            raise _Retry("timed out") from None
        except httpx.TransportError as exc:
            # The exception's text may hold the URL, hence the token: name its type only.
            raise _Retry(f"connection failed ({type(exc).__name__})") from None
        status = response.status_code
        body = _json(response)
        code = None if body is None else body.get("error_code")
        if 429 in (status, code):
            raise _Retry("rate limited (429)", 429, _retry_after(response, body))
        if status >= 500 or code == SERVER_ERROR_CODE:
            raise _Retry(f"server error {code if code == SERVER_ERROR_CODE else status}", status)
        if NO_UPDATE in (status, code) and method == "getUpdates":
            log.debug("Zalo getUpdates: nothing arrived")
            return None
        if body is None:
            raise ZaloApiError(method, f"HTTP {status}, not a JSON object", status)
        if status >= 400 or body.get("ok") is not True:
            raise ZaloApiError(
                method,
                str(body.get("description") or f"HTTP {status}"),
                status,
                code if isinstance(code, int) else None,
            )
        return body.get("result")

    # --- the methods --------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_updates(self, wait: int = 30) -> list[dict[str, Any]]:
        """Long-polls up to `wait` seconds; Zalo returns one update at a time (a list is
        accepted too), or `error_code` 408 "Request timeout" when none came: then []."""
        result = await self.call(
            "getUpdates", {"timeout": str(wait)}, http_timeout=wait + self._timeout
        )
        if isinstance(result, list):
            return [u for u in result if isinstance(u, dict)]
        return [result] if isinstance(result, dict) else []

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> Any:
        return await self.call("getWebhookInfo")

    async def send_message(self, chat_id: str, text: str) -> Any:
        if not 1 <= len(text) <= MAX_TEXT:
            raise ValueError(f"a Zalo message has 1 to {MAX_TEXT} characters, not {len(text)}")
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> Any:
        payload = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption[:MAX_TEXT]
        return await self.call("sendPhoto", payload)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after(response: httpx.Response, body: Mapping[str, Any] | None) -> float | None:
    """Seconds the server asked us to wait: `parameters.retry_after`, `retry_after`, or the
    Retry-After header; None when it did not say."""
    candidates: list[Any] = []
    if body is not None:
        params = body.get("parameters")
        if isinstance(params, Mapping):
            candidates.append(params.get("retry_after"))
        candidates.append(body.get("retry_after"))
    candidates.append(response.headers.get("Retry-After"))
    for value in candidates:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds >= 0:
            return min(seconds, MAX_RETRY_AFTER)
    return None
