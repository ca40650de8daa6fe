"""Per-sender flood limits, decided before the engine does any work for a message (issue 15).

- **Pace**: a sender whose messages wanting an answer pass `[limits] per_minute` in a minute
  gets one "slow down", then nothing for `[limits] pause_minutes`: no answer, nothing stored.
  While they keep on, the pause starts again with no new "slow down" for an hour, so a flood
  costs at most one message an hour.
- **Strangers** (neither in the config nor approved through /dangky) get at most one answer an
  hour. Their way in, /huongdan (Telegram's /start) and /dangky, is answered besides that up to
  `[registration] per_sender_per_day` + 2 times in 24 hours: the help, the requests /dangky
  accepts and the refusal after them.

Silence sends nothing, so it costs no platform quota. The state is keyed by (platform, user
id). `FloodGuard` keeps it in this process's memory (a restart forgets it), bounded to
`MAX_SENDERS` senders, the one heard from longest ago forgotten first: one SQLite process,
the simulator. On PostgreSQL, where several workers share the chats, `SharedFloodGuard` keeps
it in the database too (table `flood_senders`): from a sender's second message within a
minute on a worker, one short row-locked transaction per counted message, so the limits
hold for the sender whichever worker handles each message (short by at most one message a
minute from each other worker); when the database fails or is slow, the worker counts in
its own memory for a while.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from core.catalogue import FloodLimits
from storage import Database

log = logging.getLogger(__name__)
_T = TypeVar("_T")

WINDOW = timedelta(minutes=1)  # what `per_minute` counts over
WARN_EVERY = timedelta(hours=1)  # at most one "slow down" per sender in this time
STRANGER_EVERY = timedelta(hours=1)  # a stranger's one answer
WAY_IN = frozenset({"huongdan", "dangky"})  # the commands that lead a stranger in
WAY_IN_WINDOW = timedelta(days=1)  # their answers are counted over this
MAX_SENDERS = 10_000

SenderKey = tuple[str, str]  # (platform, user id)


class Pace(Enum):
    ANSWER = "answer"
    SLOW_DOWN = "slow down"  # the one warning
    SILENT = "silent"


@dataclass
class _Sender:
    # Times of the last messages within WINDOW (at most per_minute + 1 kept).
    recent: deque[datetime] = field(default_factory=deque)
    quiet_until: datetime | None = None
    warned_at: datetime | None = None
    answered_at: datetime | None = None  # a stranger's last answer
    way_in: deque[datetime] = field(default_factory=deque)  # a stranger's WAY_IN answers
    # This worker only (never stored): the message of this minute not yet in the database's
    # count (`SharedFloodGuard.pace`).
    unreported: datetime | None = None

    def pace(self, now: datetime, limits: FloodLimits) -> Pace:
        """Count one message that wants an answer, and say whether it gets one."""
        recent = self.recent
        recent.append(now)
        while now - recent[0] >= WINDOW or len(recent) > limits.per_minute + 1:
            recent.popleft()
        if self.quiet_until is not None and now < self.quiet_until:
            return Pace.SILENT
        if len(recent) <= limits.per_minute:
            return Pace.ANSWER
        self.quiet_until = now + limits.pause
        if self.warned_at is not None and now - self.warned_at < WARN_EVERY:
            return Pace.SILENT
        self.warned_at = now
        return Pace.SLOW_DOWN

    def stranger_answered(self, now: datetime, way_in: int) -> bool:
        """Whether a stranger's message gets its answer (and if so, count it): from the
        `way_in` answers allowed in 24 hours to the WAY_IN commands (0: not one of them), else
        the one answer of the hour."""
        done = self.way_in
        while done and now - done[0] >= WAY_IN_WINDOW:
            done.popleft()
        if len(done) < way_in:
            done.append(now)
            return True
        if self.answered_at is None or now - self.answered_at >= STRANGER_EVERY:
            self.answered_at = now
            return True
        return False

    def to_json(self) -> dict[str, Any]:
        def moment(at: datetime | None) -> str | None:
            return at.isoformat() if at is not None else None

        return {
            "recent": [at.isoformat() for at in self.recent],
            "quiet_until": moment(self.quiet_until),
            "warned_at": moment(self.warned_at),
            "answered_at": moment(self.answered_at),
            "way_in": [at.isoformat() for at in self.way_in],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Sender:
        def moment(text: str | None) -> datetime | None:
            return datetime.fromisoformat(text) if text else None

        return cls(
            deque(datetime.fromisoformat(t) for t in data.get("recent", ())),
            moment(data.get("quiet_until")),
            moment(data.get("warned_at")),
            moment(data.get("answered_at")),
            deque(datetime.fromisoformat(t) for t in data.get("way_in", ())),
        )


class FloodGuard:
    """The state in this process's memory."""

    def __init__(self, max_senders: int = MAX_SENDERS) -> None:
        self._senders: OrderedDict[SenderKey, _Sender] = OrderedDict()
        self._max = max_senders

    def pace(self, sender: SenderKey, now: datetime, limits: FloodLimits) -> Pace:
        """Count one message from `sender` that wants an answer, and say whether it gets one."""
        return self.state_of(sender).pace(now, limits)

    def stranger_answered(self, sender: SenderKey, now: datetime, way_in: int) -> bool:
        """Whether a stranger's message gets its answer (`_Sender.stranger_answered`)."""
        return self.state_of(sender).stranger_answered(now, way_in)

    def state_of(self, sender: SenderKey) -> _Sender:
        """The sender's state (a new one for a sender not heard from), now the most recently
        heard from."""
        state = self._senders.pop(sender, None)
        if state is None:
            if len(self._senders) >= self._max:
                self._senders.popitem(last=False)
            state = _Sender()
        self._senders[sender] = state  # now the most recently heard from
        return state


SHARED_FROM = 2  # a sender's messages a minute on one worker from which the database counts
SHARED_TIMEOUT = 2.0  # seconds; a slower database is not waited for: memory instead
FALLBACK_S = 30.0  # how long memory is used after the database failed, before trying again
SENDERS_KEPT = WAY_IN_WINDOW + timedelta(hours=1)  # longest a sender's state matters


class SharedFloodGuard:
    """The state in the database, for every worker; `local` (this process's memory) when
    the database failed or did not answer within `SHARED_TIMEOUT`, for `FALLBACK_S`,
    logged once per outage. A flood during a database outage is still silenced."""

    def __init__(
        self,
        db: Database,
        local: FloodGuard,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.local = local
        self._monotonic = monotonic
        self._fallback_until: float | None = None

    async def pace(self, sender: SenderKey, now: datetime, limits: FloodLimits) -> Pace:
        """Counted in memory first; in the database from a sender's second message within a
        minute on this worker (the first one then counted with it). A sender who writes once
        a minute or less (every officer on a Monday) costs the database nothing; a flood
        is counted for all workers together, short by at most one message a minute from
        each other worker."""
        mine = self.local.state_of(sender)
        local = mine.pace(now, limits)
        if len(mine.recent) < SHARED_FROM:
            mine.unreported = now
            return local
        earlier, mine.unreported = mine.unreported, None

        def step(state: _Sender) -> Pace:
            if earlier is not None:
                state.recent = deque(sorted([*state.recent, earlier]))
            return state.pace(now, limits)

        shared = await self._step(sender, now, step)
        return shared if shared is not None else local

    async def stranger_answered(self, sender: SenderKey, now: datetime, way_in: int) -> bool:
        shared = await self._step(sender, now, lambda state: state.stranger_answered(now, way_in))
        if shared is not None:
            return shared
        return self.local.stranger_answered(sender, now, way_in)

    async def _step(
        self, sender: SenderKey, now: datetime, step: Callable[[_Sender], _T]
    ) -> _T | None:
        """`step` on the sender's stored state, saved in the same transaction; None when
        the database is not used now (memory decides)."""
        if self._fallback_until is not None and self._monotonic() < self._fallback_until:
            return None
        platform, user_id = sender
        try:
            async with asyncio.timeout(SHARED_TIMEOUT), self.db.unit_of_work() as uow:
                state = _Sender.from_json(await uow.flood.claim(platform, user_id, now))
                result = step(state)
                await uow.flood.put(platform, user_id, state.to_json())
                await uow.commit()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if self._fallback_until is None:  # once per outage
                log.warning(
                    "flood limits: the database failed (%s); counted in this process's "
                    "memory, the database tried again every %d s",
                    type(exc).__name__,
                    FALLBACK_S,
                )
            self._fallback_until = self._monotonic() + FALLBACK_S
            return None
        if self._fallback_until is not None:
            self._fallback_until = None
            log.info("flood limits: counted in the database again")
        return result
