"""Per-sender flood limits, decided before the engine does any work for a message (issue 15).

- **Pace**: a sender whose messages wanting an answer pass `[limits] per_minute` in a minute
  gets one "slow down", then nothing for `[limits] pause_minutes`: no answer, nothing stored.
  While they keep on, the pause starts again with no new "slow down" for an hour, so a flood
  costs at most one message an hour.
- **Strangers** (neither in the config nor approved through /dangky) get at most one answer an
  hour. Their way in, /huongdan (Telegram's /start) and /dangky, is answered besides that up to
  `[registration] per_sender_per_day` + 2 times in 24 hours: the help, the requests /dangky
  accepts and the refusal after them.

Silence sends nothing, so it costs no platform quota. The state lives in this process's memory
(a restart forgets it), keyed by (platform, user id) and bounded to `MAX_SENDERS` senders, the
one heard from longest ago forgotten first; issue 17 is to move shared state to the database.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from core.catalogue import FloodLimits

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


class FloodGuard:
    def __init__(self, max_senders: int = MAX_SENDERS) -> None:
        self._senders: OrderedDict[SenderKey, _Sender] = OrderedDict()
        self._max = max_senders

    def pace(self, sender: SenderKey, now: datetime, limits: FloodLimits) -> Pace:
        """Count one message from `sender` that wants an answer, and say whether it gets one."""
        state = self._state(sender)
        recent = state.recent
        recent.append(now)
        while now - recent[0] >= WINDOW or len(recent) > limits.per_minute + 1:
            recent.popleft()
        if state.quiet_until is not None and now < state.quiet_until:
            return Pace.SILENT
        if len(recent) <= limits.per_minute:
            return Pace.ANSWER
        state.quiet_until = now + limits.pause
        if state.warned_at is not None and now - state.warned_at < WARN_EVERY:
            return Pace.SILENT
        state.warned_at = now
        return Pace.SLOW_DOWN

    def stranger_answered(self, sender: SenderKey, now: datetime, way_in: int) -> bool:
        """Whether a stranger's message gets its answer (and if so, count it): from the
        `way_in` answers allowed in 24 hours to the WAY_IN commands (0: not one of them), else
        the one answer of the hour."""
        state = self._state(sender)
        done = state.way_in
        while done and now - done[0] >= WAY_IN_WINDOW:
            done.popleft()
        if len(done) < way_in:
            done.append(now)
            return True
        if state.answered_at is None or now - state.answered_at >= STRANGER_EVERY:
            state.answered_at = now
            return True
        return False

    def _state(self, sender: SenderKey) -> _Sender:
        state = self._senders.pop(sender, None)
        if state is None:
            if len(self._senders) >= self._max:
                self._senders.popitem(last=False)
            state = _Sender()
        self._senders[sender] = state  # now the most recently heard from
        return state
