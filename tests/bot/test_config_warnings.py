"""A config that loads with warnings: the bot starts, and says each warning once in its log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config_file import load_catalogue
from tests.conftest import CONFIG_PATH


def test_a_unit_named_like_the_area_is_logged_at_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = CONFIG_PATH.read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text + '\n[[units]]\ncode = "binh_son"\nname = "Xã Bình Sơn"\n', "utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.config_file"):
        catalogue = load_catalogue(path, "Asia/Ho_Chi_Minh")
    assert catalogue.has_unit("binh_son")
    [record] = caplog.records
    assert record.getMessage() == f"{path}: {catalogue.warnings[0]}"
    assert "'Xã Bình Sơn' trùng với tên địa bàn 'huyện Bình Sơn'" in record.getMessage()


def test_the_shipped_config_loads_without_warnings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.config_file"):
        load_catalogue(CONFIG_PATH, "Asia/Ho_Chi_Minh")
    assert not caplog.records
