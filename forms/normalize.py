"""Canonical text: what we store whichever keyboard, digit set or old system the citizen typed with.

Python's ``int()``, ``str.isdigit()`` and ``re``'s ``\\d`` all accept Persian and other non-ASCII digits
silently, so every string is normalised here before anything looks at it, and checks elsewhere use
ASCII-only tests. Letters are folded only where two code points mean one Persian letter; nothing that
changes a name (hamza forms, diacritics, ZWNJ inside words) is touched.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from forms.storable import MAX_SAFE_INTEGER

_LETTERS = str.maketrans({"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"})
# Tatweel is decoration; zero-width spaces, bidi controls and the BOM are invisible, break matching and
# can spoof; ZWJ has no use in Persian orthography.
_INVISIBLE = dict.fromkeys(map(ord, "\u0640\u200b\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                     "\u2066\u2067\u2068\u2069\u061c\ufeff"))
_NON_ASCII_DIGIT = re.compile(r"[^\D0-9]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_ZWNJ = "\u200c"
_ZWNJ_RUN = re.compile(_ZWNJ + "{2,}")
_ZWNJ_BY_SPACE = re.compile(f" ?{_ZWNJ}+ ?")
# What people paste inside identifiers: spaces, dashes, dots, slashes, commas, Arabic separators,
# and the invisible joiners and marks.
_SEPARATORS = re.compile("[\\s\u00a0\u202f\\-_./,\u060c\u066c\u200c\u200d\u200e\u200f]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_MAX_WHOLE_DIGITS = len(str(MAX_SAFE_INTEGER))


class NumberOutOfRange(ValueError):
    """A number written correctly that lies outside ±`MAX_SAFE_INTEGER`."""

    def __init__(self, text: str) -> None:
        shown = text if len(text) <= 30 else f"{text[:12]}…({len(text):,} characters)"
        super().__init__(f"{shown} is outside the range numbers are kept in: ±{MAX_SAFE_INTEGER}")


def ascii_digits(value: str) -> str:
    """Every Unicode decimal digit (Persian, Arabic-Indic, Devanagari...) as its ASCII digit."""
    return _NON_ASCII_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), value)


def _zwnj_kept_inside_words(line: str) -> str:
    line = _ZWNJ_RUN.sub(_ZWNJ, line)
    line = _ZWNJ_BY_SPACE.sub(lambda m: " " if " " in m.group() else m.group(), line)
    return line.strip(" " + _ZWNJ)


def normalize_text(value: str) -> str:
    """NFKC, Arabic yeh/kaf as Persian, ASCII digits, no invisible marks, trimmed whitespace.

    Newlines are kept (a textarea's paragraphs); other whitespace runs become one space.
    """
    value = unicodedata.normalize("NFKC", value).translate(_LETTERS).translate(_INVISIBLE)
    value = ascii_digits(value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_zwnj_kept_inside_words(_HORIZONTAL_SPACE.sub(" ", line)) for line in value.split("\n")]
    return "\n".join(lines).strip("\n")


def normalize_value(value: Any) -> Any:
    """`normalize_text` applied to every string inside a JSON value (keys are left as they are)."""
    if isinstance(value, str):
        return normalize_text(value)
    if isinstance(value, list):
        return [normalize_value(item) for item in value]
    if isinstance(value, dict):
        return {key: normalize_value(item) for key, item in value.items()}
    return value


def compact(value: str) -> str:
    """An identifier as typed, with ASCII digits and without the separators people paste."""
    return _SEPARATORS.sub("", normalize_text(value))


def bounded_number(text: str) -> int | float:
    """The number ASCII `text` writes (``"-12"``, ``"3.50"``), if it lies within ±`MAX_SAFE_INTEGER`.

    The whole digits are counted before anything converts them: Python refuses to convert more
    than 4,300 digits, and converting fewer still costs the square of their count, so text of
    any length costs only a look at its length.

    Raises:
        NumberOutOfRange: a number, but outside the range.
        ValueError: not a plain decimal number (exponents, NaN and Infinity are not).
    """
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text[:30]!r} is not a number")
    sign = "-" if text.startswith("-") else ""
    whole = text.lstrip("+-").partition(".")[0].lstrip("0")
    if len(whole) > _MAX_WHOLE_DIGITS:
        raise NumberOutOfRange(text)
    # Leading zeros count towards Python's limit too; the value is the same without them.
    number = float(text) if "." in text else int(sign + (whole or "0"))
    if not -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        raise NumberOutOfRange(text)
    return number


def parse_integer(value: str) -> int | None:
    """The integer a citizen typed (``"۲۵"``, ``"1,500"``), or None when it is not one or lies
    outside ±`MAX_SAFE_INTEGER` (`out_of_range` tells which)."""
    candidate = _plain_number(value)
    if not _INTEGER.fullmatch(candidate):
        return None
    try:
        return int(bounded_number(candidate))
    except NumberOutOfRange:
        return None


def parse_number(value: str) -> int | float | None:
    """The number a citizen typed (``"۱۲٫۵"``), or None when it is not one or lies outside
    ±`MAX_SAFE_INTEGER`."""
    try:
        return bounded_number(_plain_number(value))
    except ValueError:
        return None


def out_of_range(value: str) -> bool:
    """Whether a citizen typed a number (as `parse_number` reads one) that lies outside ±`MAX_SAFE_INTEGER`."""
    try:
        bounded_number(_plain_number(value))
    except NumberOutOfRange:
        return True
    except ValueError:
        return False
    return False


def _plain_number(value: str) -> str:
    value = ascii_digits(unicodedata.normalize("NFKC", value)).translate(_INVISIBLE)
    value = value.replace("\u066b", ".")
    return re.sub("[\\s\u00a0\u202f,\u066c_]", "", value)
