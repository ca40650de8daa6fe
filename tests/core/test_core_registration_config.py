"""`[registration]`: how long a /dangky request waits and how many strangers may send."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from typing import Any

import pytest

from core.catalogue import Catalogue, ConfigError, RegistrationRules, build_catalogue
from tests.conftest import CONFIG_PATH


def _with(registration: dict[str, Any]) -> Catalogue:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    data["registration"] = registration
    return build_catalogue(data)


def test_defaults_and_custom_values() -> None:
    assert _with({}).registration == RegistrationRules(timedelta(hours=72), 3, 50)
    custom = _with({"expire_hours": 24, "per_sender_per_day": 1, "per_day": 10})
    assert custom.registration == RegistrationRules(timedelta(hours=24), 1, 10)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"expire_hours": 0}, "registration.expire_hours"),
        ({"expire_hours": "72"}, "registration.expire_hours"),
        ({"per_sender_per_day": 0}, "registration.per_sender_per_day"),
        ({"per_day": -1}, "registration.per_day"),
        ({"per_day": 1.5}, "registration.per_day"),
        ({"limit": 3}, "registration.limit"),
    ],
)
def test_bad_or_unknown_keys_are_refused(table: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _with(table)
    assert caught.value.key == key
