"""Text normalisation for matching what officers type against configured names."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
# Zero-width and direction marks people paste from other apps; they are never meaningful here.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    None,
)


def clean(text: str) -> str:
    """NFC, invisible characters removed, whitespace collapsed, trimmed."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Case-folded, cleaned text that keeps its diacritics."""
    return clean(text).casefold()


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare).replace("đ", "d").replace("Đ", "D")


def key(text: str) -> str:
    """Case- and diacritics-insensitive key: `Đã cấp CCCD` -> `da cap cccd`."""
    return strip_diacritics(fold(text))


@lru_cache(maxsize=16384)  # unit names, sorted again for every ranking
def collate(text: str) -> str:
    """Sort key in Vietnamese alphabetical order, close enough: d before đ, a before á."""
    folded = fold(text).replace("đ", "d\uffff")
    return strip_diacritics(folded) + "\0" + folded


@lru_cache(maxsize=4096)  # the same few dozen labels arrive in every report
def label_key(text: str) -> str:
    """Key for field labels: punctuation other than digits and letters is ignored."""
    return _SPACES.sub(" ", re.sub(r"[^\w]+", " ", key(text))).strip()


# Old tone placement (`hoà`, `thuỷ`, `khoẻ`, `uý`) -> new (`hòa`, `thủy`, `khỏe`, `úy`): both
# are accepted spellings of the same syllable, so names are compared in one of them. Only an
# open syllable moves its mark (`hoàn` is the same in both), and `qu` is a consonant (`quý`).
_OLD_TONES = re.compile(
    r"(?<![qQ])([oOuU])([aAeEyY])([\u0300\u0301\u0303\u0309\u0323])(?![\w\u0300-\u036f])"
)


def modern_tones(text: str) -> str:
    """`Tân Hoà` -> `Tân Hòa`, `thuỷ` -> `thủy`; any other text unchanged (NFC in, NFC out)."""
    decomposed = unicodedata.normalize("NFD", text)
    moved = _OLD_TONES.sub(lambda m: m[1] + m[3] + m[2], decomposed)
    return unicodedata.normalize("NFC", moved) if moved != decomposed else text
