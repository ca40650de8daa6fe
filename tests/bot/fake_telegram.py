"""Moved to testing/fake_telegram.py (the benchmarks use it too); kept for the tests' imports."""

from testing.fake_telegram import (
    ALLOWED_TAGS,
    BOT_ID,
    BOT_USERNAME,
    INT_FIELDS,
    JSON_FIELDS,
    TOKEN,
    Call,
    FakeBotApi,
    Fault,
    button_update,
    html_problem,
    parsed,
    text_update,
    user,
    utf16_len,
)

__all__ = [
    "ALLOWED_TAGS",
    "BOT_ID",
    "BOT_USERNAME",
    "INT_FIELDS",
    "JSON_FIELDS",
    "TOKEN",
    "Call",
    "FakeBotApi",
    "Fault",
    "button_update",
    "html_problem",
    "parsed",
    "text_update",
    "user",
    "utf16_len",
]
