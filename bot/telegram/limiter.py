"""Telegram's flood limits as sliding windows, for python-telegram-bot's rate-limiter hook.

PTB's AIORateLimiter uses leaky buckets: a bucket of 30 lets 30 messages through at once and
then 30 a second, so some one-second window carries up to 60 and Telegram answers 429 (each
429 then stops every send for `retry_after`). Pacing evenly instead (a bucket of 1) avoids
that but makes 20 replies to 20 groups at once wait for each other. A sliding
window allows both: any burst up to the limit at once, never more than the limit in any
window. Measured in `make bench` (broadcast_rate, broadcast_429_pct, reply_p95_ms).

Several workers on one PostgreSQL share their windows (`core.chat.SendWindows`, given by
`bot/runtime.py`, kept by `storage.send_windows`): each send books its slot there, so the
workers together keep the limits (bench: monday_burst_*). When the database cannot book
(an error, no answer within two seconds) the process's own windows take over, the database
tried again every 30 s; logged once per outage, and again when it answers. A group's window
and a 429 on a group delay only that group: a private reply never waits for a group's minute.
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

from core.chat import SendWindow, SendWindows, WindowsUnavailable

log = logging.getLogger(__name__)

# After the shared windows failed, the process's own are used this long before the database
# is tried again (a database that hangs would otherwise cost every send the timeout).
FALLBACK_S = 30.0
# A booked send leaves when its slot comes, never earlier, but may reach Telegram later: the
# worker's event loop or CPU was busy, a connection had to be opened. Two sends booked a
# window apart may thus arrive closer together, and the strict sliding window of the fake Bot
# API (testing/fake_telegram.py) then answers 429. So the shared window for the bot is
# Telegram's 30 in 1.1 s (27.3 a second): any 1.0 s at Telegram holds at most 30 sends if no
# send arrives more than 0.1 s late. Measured with three worker processes on one PostgreSQL
# on a busy 2-core machine: 29 in 1.05 s still drew 2.6 % of 429s (docs/PERFORMANCE.md).
SHARED_PER_SECOND = 30
SHARED_SECOND_S = 1.1
# This process's own window for the bot: 29 in 1.03 s (28.2 a second), for the same reason:
# the outbox's drains send side by side, and 29 in exactly 1.0 s drew 0.2-1.9 % of 429s in
# bench broadcast_429_pct (1,000 reminders), none in three runs with 1.03 s.
OWN_SECOND_S = 1.03
# A group's minute is kept half a second longer, for the same reason (under 1 % of its pace).
GROUP_GUARD_S = 0.5


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
    any `group_window` (a minute) and half a second. With `shared` windows (several workers on
    one database) the slots are booked there under `scope` (the bot's id), the bot's as
    SHARED_PER_SECOND in SHARED_SECOND_S, else in this process. A 429 pauses that group's
    sends, or every send when it came from a private chat, for its `retry_after`; then the
    request is tried again, up to `max_retries` times."""

    def __init__(
        self,
        per_second: int = 29,
        per_group_minute: int = 20,
        max_retries: int = 8,
        shared: SendWindows | None = None,
        group_window: float = 60.0,
        scope: str = "telegram",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = SlidingWindow(per_second, OWN_SECOND_S)
        self._per_group = per_group_minute
        self._group_window = group_window + GROUP_GUARD_S
        self._groups: dict[int | str, SlidingWindow] = {}
        self._max_retries = max_retries
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        self._group_paused: dict[int | str, float] = {}  # group -> paused until (clock)
        self._shared, self._scope, self._clock = shared, scope, clock
        self._fallback_until: float | None = None  # own windows in use until then
        self._degraded = False  # the shared windows failed and have not answered since

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    @property
    def shared(self) -> bool:
        """Whether sends are booked in the shared windows now (not in a fallback)."""
        return self._shared is not None and self._fallback_until is None

    def _group(self, chat_id: int | str) -> SlidingWindow:
        if len(self._groups) > 512:  # forget groups that have been quiet for a minute
            for key in [k for k, w in self._groups.items() if w.idle]:
                del self._groups[key]
        if chat_id not in self._groups:
            self._groups[chat_id] = SlidingWindow(self._per_group, self._group_window)
        return self._groups[chat_id]

    async def _shared_slot(self, chat_id: int | str, group: bool) -> bool:
        """Book the send in the shared windows (the group's, then the bot's) and wait for its
        slot: True. False when there are no shared windows or they failed (then this
        process's own windows are used; logged once, the database tried again later)."""
        if self._shared is None:
            return False
        if self._fallback_until is not None:
            if self._clock() < self._fallback_until:
                return False
            self._fallback_until = None  # try the database again
        windows = [SendWindow(f"{self._scope}:all", SHARED_PER_SECOND, SHARED_SECOND_S)]
        if group:
            windows.insert(
                0, SendWindow(f"{self._scope}:chat:{chat_id}", self._per_group, self._group_window)
            )
        while True:
            try:
                wait, booked = await self._shared.reserve(windows)
            except WindowsUnavailable as exc:
                # Once per outage: a failed retry 30 s later is not logged again.
                log.log(
                    logging.DEBUG if self._degraded else logging.WARNING,
                    "telegram: shared send windows unavailable (%s); this process keeps its "
                    "own until they answer again (tried every %.0f s)",
                    exc,
                    FALLBACK_S,
                )
                self._degraded = True
                self._fallback_until = self._clock() + FALLBACK_S
                return False
            if self._degraded:
                self._degraded = False
                log.warning("telegram: shared send windows answer again")
            if wait > 0:
                await asyncio.sleep(wait)
            if booked:
                return True

    async def _group_pause(self, chat_id: int | str) -> None:
        until = self._group_paused.get(chat_id)
        while until is not None and (left := until - self._clock()) > 0:
            await asyncio.sleep(left)
            until = self._group_paused.get(chat_id)
        self._group_paused.pop(chat_id, None)

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
                    await self._group_pause(chat_id)
                if not await self._shared_slot(chat_id, group):
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
                if group:
                    # A group's flood limit: only that group waits.
                    log.info("telegram: 429 on %s to a group; it waits %.1f s", endpoint, seconds)
                    self._group_paused[chat_id] = self._clock() + seconds + 0.1  # type: ignore[index]
                    continue
                log.info("telegram: 429 on %s; every send waits %.1f s", endpoint, seconds)
                self._unpaused.clear()
                try:
                    await asyncio.sleep(seconds + 0.1)
                finally:
                    self._unpaused.set()
        raise RuntimeError("unreachable")  # the loop returns or raises
