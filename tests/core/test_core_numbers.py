"""core.numbers: counts as officers type them, and numbers as the letters print them."""

from __future__ import annotations

import unicodedata
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.numbers import (
    MAX_COUNT,
    NumberError,
    format_decimal,
    format_int,
    format_pct,
    parse_count,
    percent,
    rate_pct,
    round_half_up,
)

# --- parse_count: accepted styles --------------------------------------------------------------


def _grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


STYLES = {
    "plain": str,
    "dot": lambda n: _grouped(n, "."),
    "comma": lambda n: _grouped(n, ","),
    "space": lambda n: _grouped(n, " "),
    "nbsp": lambda n: _grouped(n, "\u00a0"),
}


@settings(max_examples=200)
@given(
    n=st.integers(min_value=0, max_value=MAX_COUNT),
    style=st.sampled_from(sorted(STYLES)),
    pad=st.sampled_from(["", " ", "  ", "\t", "\u00a0"]),
)
def test_any_count_in_any_accepted_style_parses_back(n: int, style: str, pad: str) -> None:
    text = pad + STYLES[style](n) + pad
    assert parse_count(text) == n


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6352", 6352),
        ("6.352", 6352),
        ("6,352", 6352),
        ("6 352", 6352),
        ("6\u00a0352", 6352),
        ("6\u202f352", 6352),
        ("1.000.000.000", 1_000_000_000),
        ("12.446", 12446),
        ("0", 0),
        ("+5", 5),
        ("  42  ", 42),
    ],
)
def test_accepted_examples(text: str, expected: int) -> None:
    assert parse_count(text) == expected


def test_largest_count_is_accepted_and_one_more_refused() -> None:
    assert parse_count(str(MAX_COUNT)) == MAX_COUNT
    with pytest.raises(NumberError, match="lớn bất thường"):
        parse_count(str(MAX_COUNT + 1))


# --- parse_count: refusals ---------------------------------------------------------------------

REFUSED = [
    "6,35",
    "6.35",
    "1.2.3",
    "-5",
    "1e9",
    "NaN",
    "-0",
    "٣٤٥",  # Arabic-Indic digits
    "12a",
    "",
    "   ",
    "1.234,5",
    "1.000.000.001",
    "1000000001",
    "99999999999999999999999",
    "6 35",
    "6.3520",
    "inf",
    "½",
]

_VIETNAMESE_MARKED = set("ăâđêôơư")


def _has_vietnamese_diacritic(text: str) -> bool:
    """True when some letter carries a Vietnamese mark: a tone mark or ă â đ ê ô ơ ư."""
    for ch in text.casefold():
        if ch in _VIETNAMESE_MARKED:
            return True
        base = unicodedata.normalize("NFD", ch)
        if ch.isalpha() and base[0].isascii() and len(base) > 1:
            return True
    return False


def test_the_diacritic_check_itself_discriminates() -> None:
    assert _has_vietnamese_diacritic("chưa có số liệu")
    assert not _has_vietnamese_diacritic("not a number 6,35")


@pytest.mark.parametrize("text", REFUSED)
def test_refused_with_vietnamese_reason(text: str) -> None:
    with pytest.raises(NumberError) as caught:
        parse_count(text)
    reason = caught.value.reason
    assert reason.strip()
    assert _has_vietnamese_diacritic(reason), reason
    assert str(caught.value) == reason
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("6,35", "hai cách"),
        ("6.35", "hai cách"),
        ("-5", "số âm"),
        ("−5", "số âm"),
        ("-0", "số âm"),
        ("٣٤٥", "chữ số lạ"),
        ("12a", "không phải là số nguyên"),
        ("1e9", "không phải là số nguyên"),
        ("", "chưa có số liệu"),
        ("99999999999999999999999", "lớn bất thường"),
    ],
)
def test_refusal_reason_says_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(NumberError, match=fragment):
        parse_count(text)


@pytest.mark.parametrize("text", ["6,35", "12a", "٣٤٥"])
def test_refusal_quotes_what_was_typed(text: str) -> None:
    with pytest.raises(NumberError) as caught:
        parse_count(text)
    assert text in caught.value.reason


@pytest.mark.parametrize("text", ["0,352", "0.352", "00.352", "0.000", "0 352"])
def test_leading_zero_group_is_not_read_as_thousands(text: str) -> None:
    # `0,352` is a decimal (0.352), never 352: thousands groups do not start with 0
    with pytest.raises(NumberError) as caught:
        parse_count(text)
    assert text in caught.value.reason


# --- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12446, "12.446"),
        (0, "0"),
        (999, "999"),
        (1000, "1.000"),
        (1_000_000_000, "1.000.000.000"),
        (-12446, "-12.446"),
    ],
)
def test_format_int(value: int, expected: str) -> None:
    assert format_int(value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (Decimal("91.14"), 2, "91,14%"),
        (Decimal("100"), 2, "100,00%"),
        (Decimal("12.5"), 1, "12,5%"),
        (Decimal("1234.5"), 1, "1.234,5%"),
        (Decimal("7"), 0, "7%"),
    ],
)
def test_format_pct(value: Decimal, decimals: int, expected: str) -> None:
    assert format_pct(value, decimals) == expected


def test_format_pct_without_a_rate_is_a_dash() -> None:
    assert format_pct(None, 2) == "—"


def test_format_decimal_uses_comma_for_decimals_and_dot_for_thousands() -> None:
    assert format_decimal(Decimal("1234567.891"), 2) == "1.234.567,89"


# --- rates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "decimals", "expected"),
    [
        (1, 8, 1, Decimal("12.5")),
        (1, 16, 2, Decimal("6.25")),
        (1, 32, 2, Decimal("3.13")),  # 3.125: half up, not banker's 3.12
        (1, 16, 1, Decimal("6.3")),  # 6.25 -> 6.3
        (1, 8, 0, Decimal("13")),  # 12.5 -> 13
        (5, 8, 0, Decimal("63")),  # 62.5 -> 63 (banker's would give 62)
        (1, 3, 2, Decimal("33.33")),
        (2, 3, 2, Decimal("66.67")),
        (0, 7, 2, Decimal("0.00")),
        (7, 7, 2, Decimal("100.00")),
    ],
)
def test_rate_pct_rounds_half_up(
    numerator: int, denominator: int, decimals: int, expected: Decimal
) -> None:
    got = rate_pct(numerator, denominator, decimals)
    assert got == expected
    assert got is not None
    assert str(got) == str(expected)  # the right number of places, too


def test_rate_without_denominator_is_none() -> None:
    assert rate_pct(0, 0, 2) is None
    assert percent(5, 0) is None


def test_percent_is_exact() -> None:
    assert percent(1, 3) == Fraction(100, 3)


def _half_up_via_decimal(value: Fraction, decimals: int) -> Decimal:
    """Half-up rounding with Decimal: truncating far beyond the rounding place never moves a
    value across the half-way point, so this is exact for the rationals used here."""
    with localcontext() as ctx:
        ctx.prec = 80
        ctx.rounding = ROUND_DOWN
        approx = Decimal(value.numerator) / Decimal(value.denominator)
        return approx.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@settings(max_examples=200)
@given(
    data=st.data(),
    denominator=st.integers(min_value=1, max_value=10**9),
    decimals=st.integers(min_value=0, max_value=4),
)
def test_rate_pct_matches_decimal_half_up(
    data: st.DataObject, denominator: int, decimals: int
) -> None:
    numerator = data.draw(st.integers(min_value=0, max_value=denominator))
    expected = _half_up_via_decimal(Fraction(numerator * 100, denominator), decimals)
    got = rate_pct(numerator, denominator, decimals)
    assert got == expected
    assert got is not None
    assert got.as_tuple().exponent == -decimals


@pytest.mark.parametrize(
    ("numerator", "denominator", "decimals"),
    [(1, 32, 2), (1, 8, 0), (5, 8, 0), (3, 8, 1), (1, 1_600_000, 5), (1, 3, 2)],
)
def test_reference_rounding_agrees_on_halves(
    numerator: int, denominator: int, decimals: int
) -> None:
    value = Fraction(numerator * 100, denominator)
    assert rate_pct(numerator, denominator, decimals) == _half_up_via_decimal(value, decimals)


@given(
    numerator=st.integers(min_value=-(10**6), max_value=10**6),
    denominator=st.integers(min_value=1, max_value=10**6),
    decimals=st.integers(min_value=0, max_value=3),
)
def test_round_half_up_is_symmetric_and_close(
    numerator: int, denominator: int, decimals: int
) -> None:
    value = Fraction(numerator, denominator)
    rounded = round_half_up(value, decimals)
    assert round_half_up(-value, decimals) == -rounded
    assert abs(Fraction(rounded) - value) <= Fraction(1, 2 * 10**decimals)
