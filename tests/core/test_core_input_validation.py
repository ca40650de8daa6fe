"""`[validation]`: the magnitude-slip thresholds, checked like every other key."""

from __future__ import annotations

import dataclasses
import tomllib
from decimal import Decimal
from typing import Any

import pytest

from core.catalogue import Catalogue, ConfigError, Validation, build_catalogue
from core.validation import review
from tests.conftest import CONFIG_PATH

BASE = {
    "citizen_id_issued": 7082,
    "eid_verified": 5014,
    "eid_activated": 4454,
    "child_6_14_total": 898,
    "child_6_14_issued": 286,
}


def _with(validation: dict[str, Any]) -> Catalogue:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    data["validation"] = validation
    return build_catalogue(data)


def test_defaults_are_five_and_a_fifth() -> None:
    assert _with({}).validation == Validation(Decimal(5), Decimal("0.2"), 50)
    custom = _with({"magnitude_high": 8, "magnitude_low": 0.1, "magnitude_min_change": 0})
    assert custom.validation == Validation(Decimal(8), Decimal("0.1"), 0)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"magnitude_high": 1}, "validation.magnitude_high"),
        ({"magnitude_high": True}, "validation.magnitude_high"),
        ({"magnitude_low": 1.5}, "validation.magnitude_low"),
        ({"magnitude_low": 0}, "validation.magnitude_low"),
        ({"magnitude_min_change": -1}, "validation.magnitude_min_change"),
        ({"jump": 3}, "validation.jump"),
    ],
)
def test_bad_or_unknown_keys_are_refused(table: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _with(table)
    assert caught.value.key == key


def test_thresholds_come_from_the_config(catalogue: Catalogue) -> None:
    sixfold = {**BASE, "citizen_id_issued": 7082 * 6}
    held = review(sixfold, catalogue, [BASE])
    assert held.confirmations == (
        "Đã cấp CCCD: 42.492 gấp 6 lần tuần trước (7.082) — có gõ thừa số 0?",
    )
    lenient = dataclasses.replace(catalogue, validation=Validation(magnitude_high=Decimal(10)))
    assert review(sixfold, lenient, [BASE]).confirmations == ()
    assert review(sixfold, catalogue, []).confirmations == ()  # no history, nothing to compare
