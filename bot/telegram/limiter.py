"""Telegram's flood limits as sliding windows, for python-telegram-bot's rate-limiter hook.

PTB's AIORateLimiter uses leaky buckets: a bucket of 30 lets 30 messages through at once and
then 30 a second, so some one-second window carries up to 60 and Telegram answers 429 (each
429 then stops every send for `retry_after`). Pacing evenly instead (a bucket of 1) avoids
that but makes 20 replies to 20 groups at once wait for each other. A sliding
window allows both: any burst up to the limit at once, never more than the limit in any
window. Measured in `make bench` (broadcast_rate, broadcast_429_pct, reply_p95_ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)


class SlidingWindow:
    """At most `limit` acquisitions in any `period` seconds; waiters are served in order."""

    def __init__(
        self,
        limit: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit, self.period = limit, period
        self._clock, self._sleep = clock, sleep
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._times and now - self._times[0] >= self.period:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return
                await self._sleep(self.period - (now - self._times[0]))

    @property
    def idle(self) -> bool:
        return not self._times or self._clock() - self._times[-1] >= self.period


class TelegramRateLimiter(BaseRateLimiter[int]):
    """Per bot: `per_second` messages in any second; per group chat: `per_group_minute` in
    any minute. A 429 pauses every request for its `retry_after`, then the request is tried
    again, up to `max_retries` times."""

    def __init__(
        self, per_second: int = 29, per_group_minute: int = 20, max_retries: int = 8
    ) -> None:
        self._overall = SlidingWindow(per_second, 1.0)
        self._per_group = per_group_minute
        self._groups: dict[int | str, SlidingWindow] = {}
        self._max_retries = max_retries
        self._unpaused = asyncio.Event()
        self._unpaused.set()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group(self, chat_id: int | str) -> SlidingWindow:
        if len(self._groups) > 512:  # forget groups that have been quiet for a minute
            for key in [k for k, w in self._groups.items() if w.idle]:
                del self._groups[key]
        if chat_id not in self._groups:
            self._groups[chat_id] = SlidingWindow(self._per_group, 60.0)
        return self._groups[chat_id]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        # Negative ids and @usernames are groups and channels: they have their own limit.
        group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        retries = rate_limit_args or self._max_retries
        for attempt in range(retries + 1):
            await self._unpaused.wait()
            if chat_id is not None:
                if group:
                    await self._group(chat_id).acquire()
                await self._overall.acquire()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                pause = exc.retry_after
                seconds = pause if isinstance(pause, int | float) else pause.total_seconds()
                log.info("telegram: 429 on %s; every send waits %.1f s", endpoint, seconds)
                self._unpaused.clear()
                try:
                    await asyncio.sleep(seconds + 0.1)
                finally:
                    self._unpaused.set()
        raise RuntimeError("unreachable")  # the loop returns or raises
