"""Reading the reporting set-up file; every problem becomes one clear line, never a traceback."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from core.catalogue import Catalogue, ConfigError
from core.config_schema import build_catalogue

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Refuse to start: the message is one line an administrator can act on."""


def load_catalogue(path: Path, default_tz: str) -> Catalogue:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StartupError(f"{path}: không tìm thấy tệp cấu hình (CONFIG_PATH)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise StartupError(f"{path}: không đọc được tệp cấu hình: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StartupError(f"{path}: sai cú pháp TOML: {exc}") from exc
    try:
        catalogue = build_catalogue(data, default_tz)
    except ConfigError as exc:
        raise StartupError(exc.at(str(path)).describe()) from exc
    for warning in catalogue.warnings:
        log.warning("%s: %s", path, warning)
    return catalogue
