"""Logging set-up, and secrets kept out of every log record.

Bot API URLs carry the token (`…/bot<token>/sendMessage`), and libraries log URLs (httpx at
INFO, python-telegram-bot at DEBUG). Rather than trusting each library, every record is
redacted as it is made, for every handler: a registered secret becomes `***`.
"""

from __future__ import annotations

import logging
from typing import Any

_secrets: set[str] = set()
_installed = False


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO; they are redacted anyway, but they are noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def hide_secret(secret: str) -> None:
    """From now on `secret` never appears in a log record's message or traceback."""
    global _installed
    if len(secret) < 6:  # too short to search for without mangling ordinary text
        return
    _secrets.add(secret)
    if not _installed:
        _installed = True
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _redact(make(*args, **kwargs))

        logging.setLogRecordFactory(factory)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "***")
    return text


def _redact(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if redact(text) != text:
            record.exc_text = redact(text)
            record.exc_info = None
    return record
