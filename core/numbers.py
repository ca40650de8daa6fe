"""Whole numbers as officers type them, and numbers as Vietnamese letters print them."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

from core import messages as msg

# A count never comes close to this; anything larger is a typo or an attack.
MAX_COUNT = 1_000_000_000

_PLAIN = re.compile(r"[0-9]+")
# Thousands groups: the first group never starts with 0 (`0,352` is a decimal, not 352).
_GROUPED = {sep: re.compile(rf"[1-9][0-9]{{0,2}}(?:{re.escape(sep)}[0-9]{{3}})+") for sep in "., "}
_SPACE_LIKE = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})


class NumberError(ValueError):
    """The text is not a whole count; `reason` is the Vietnamese explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_count(raw: str) -> int:
    """Parse `6352`, `6.352`, `6,352` or `6 352` to 6352; refuse anything else with a reason."""
    plain = raw.strip()
    if plain.isascii() and (plain.isdigit() or _GROUPED["."].fullmatch(plain)):
        value = int(plain.replace(".", ""))  # the usual forms, without the checks below
    else:
        value = _written_count(raw)
    if value > MAX_COUNT:
        raise NumberError(msg.number_too_large(raw))
    return value


def _written_count(raw: str) -> int:
    """`parse_count` for what is not the usual `6352` or `6.352`: spaces of every kind,
    commas, signs, foreign digits, decimals; no upper bound."""
    text = re.sub(" +", " ", raw.translate(_SPACE_LIKE).strip())
    if not text:
        raise NumberError(msg.number_empty())
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in text):
        raise NumberError(msg.number_foreign_digits(raw))
    body = text
    if body[0] in "-−–":
        if _PLAIN.fullmatch(body[1:].strip().replace(".", "").replace(",", "").replace(" ", "")):
            raise NumberError(msg.number_negative(raw))
        raise NumberError(msg.number_not_whole(raw))
    if body[0] == "+":
        body = body[1:].strip()
    if _PLAIN.fullmatch(body):
        return int(body)
    if any(pattern.fullmatch(body) for pattern in _GROUPED.values()):
        return int(re.sub("[., ]", "", body))
    if re.fullmatch(r"[0-9]+[.,][0-9]+", body):
        # `6,35` is 6.35 in Vietnamese and 635 to a hurried typist: never guess.
        raise NumberError(msg.number_ambiguous(raw))
    raise NumberError(msg.number_not_whole(raw))


def format_int(value: int) -> str:
    """12446 -> `12.446` (dot for thousands, as in the letters)."""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", ".")


def format_decimal(value: Decimal, decimals: int) -> str:
    """Decimal comma, dot thousands: Decimal('1234.5') -> `1.234,5`."""
    quantum = Decimal(1).scaleb(-decimals)
    text = f"{value.quantize(quantum):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_pct(value: Decimal | None, decimals: int) -> str:
    """Decimal('91.14') -> `91,14%`; None (no denominator) -> `—`."""
    if value is None:
        return "—"
    return format_decimal(value, decimals) + "%"


def format_goal_pct(value: Decimal | None) -> str:
    """A percentage the set-up gives (a target, a band's threshold, a milestone's rate) as the
    letters write it: `80%`, or with two decimals when it has any (`82,50%`); "" for none."""
    if value is None:
        return ""
    return format_pct(value, 0 if value == value.to_integral() else 2)


def round_half_up(value: Fraction, decimals: int) -> Decimal:
    """Exact half-up rounding of a rational to `decimals` places."""
    scale = 10**decimals
    scaled = value * scale
    sign = -1 if scaled < 0 else 1
    magnitude = abs(scaled)
    rounded = (magnitude.numerator * 2 + magnitude.denominator) // (2 * magnitude.denominator)
    return Decimal(sign * rounded).scaleb(-decimals)


def percent(numerator: int, denominator: int) -> Fraction | None:
    """The exact rate in percent, or None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return Fraction(numerator * 100, denominator)


def rate_pct(
    numerator: int, denominator: int, decimals: int, truncate: bool = False
) -> Decimal | None:
    """round_half_up(percent(numerator, denominator), decimals), in integers when the count
    is not negative (thousands of rates per ranking; Fractions cost ten times more);
    `truncate`: the digits past `decimals` dropped instead (as some letters print rates)."""
    if denominator <= 0:
        return None
    if truncate:
        cut = math.trunc(Fraction(numerator * 100, denominator) * 10**decimals)
        return Decimal(cut).scaleb(-decimals)
    if numerator < 0:
        return round_half_up(Fraction(numerator * 100, denominator), decimals)
    # floor(x + 1/2) for x = 100·n·10^d / den, without reducing the fraction first.
    scaled = numerator * 100 * 10**decimals
    return Decimal((2 * scaled + denominator) // (2 * denominator)).scaleb(-decimals)
