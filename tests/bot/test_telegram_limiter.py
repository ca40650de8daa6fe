"""The sliding-window limits, on a virtual clock (no real waiting, no timing assertions)."""

from __future__ import annotations

import asyncio

from bot.telegram.limiter import SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


async def test_a_burst_up_to_the_limit_goes_at_once_then_the_window_slides() -> None:
    clock = Clock()
    window = SlidingWindow(3, 1.0, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(7):
        await window.acquire()
        times.append(round(clock.now, 6))
    # Three at once; the fourth when the first leaves the window, and so on.
    assert times == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0]
    # Never more than the limit in any window of one second.
    assert all(sum(1 for t in times if start <= t < start + 1.0) <= 3 for start in times)


async def test_a_quiet_window_forgets_old_sends() -> None:
    clock = Clock()
    window = SlidingWindow(2, 1.0, clock=clock, sleep=clock.sleep)
    await window.acquire()
    await window.acquire()
    clock.now = 5.0
    assert window.idle
    await window.acquire()
    await window.acquire()
    assert clock.slept == []


async def test_waiters_are_served_in_order() -> None:
    clock = Clock()
    window = SlidingWindow(1, 1.0, clock=clock, sleep=clock.sleep)
    served: list[int] = []

    async def take(n: int) -> None:
        await window.acquire()
        served.append(n)

    await asyncio.gather(*(take(n) for n in range(5)))
    assert served == [0, 1, 2, 3, 4]
    assert clock.now == 4.0
