"""`[limits]` (how fast one sender may write) and `[chats.KEY] telegram_topic` (where
scheduled posts go in a forum): read, defaulted and refused like every other key."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from typing import Any

import pytest

from core.catalogue import Catalogue, ConfigError, FloodLimits, build_catalogue
from tests.conftest import CONFIG_PATH


def _with(**tables: Any) -> Catalogue:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    for name, table in tables.items():
        if name == "group_chat":
            data["chats"]["nhom_bao_cao"].update(table)
        else:
            data[name] = table
    return build_catalogue(data)


def test_limits_defaults_and_custom_values() -> None:
    assert _with().limits == FloodLimits(20, timedelta(minutes=5))
    custom = _with(limits={"per_minute": 8, "pause_minutes": 30})
    assert custom.limits == FloodLimits(8, timedelta(minutes=30))


def test_a_chat_may_name_a_telegram_topic() -> None:
    assert _with().chat_by_key("nhom_bao_cao").topics == {}  # type: ignore[union-attr]
    chat = _with(group_chat={"telegram_topic": 12}).chat_by_key("nhom_bao_cao")
    assert chat is not None
    assert chat.topics == {"telegram": "12"}


@pytest.mark.parametrize(
    ("tables", "key"),
    [
        ({"limits": {"per_minute": 0}}, "limits.per_minute"),
        ({"limits": {"per_minute": "20"}}, "limits.per_minute"),
        ({"limits": {"pause_minutes": 0}}, "limits.pause_minutes"),
        ({"limits": {"pause_minutes": 1441}}, "limits.pause_minutes"),
        ({"limits": {"per_hour": 3}}, "limits.per_hour"),
        ({"group_chat": {"telegram_topic": 0}}, "chats.nhom_bao_cao.telegram_topic"),
        ({"group_chat": {"telegram_topic": "chung"}}, "chats.nhom_bao_cao.telegram_topic"),
        ({"group_chat": {"zalo_topic": 3}}, "chats.nhom_bao_cao.zalo_topic"),
    ],
)
def test_bad_or_unknown_keys_are_refused(tables: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _with(**tables)
    assert caught.value.key == key
