"""Telegram adapter (python-telegram-bot v22)."""

import os

# Opt in to PTB's coming `timedelta` durations (RetryAfter.retry_after); the old int form is
# deprecated and warns from inside PTB itself.
os.environ.setdefault("PTB_TIMEDELTA", "1")
