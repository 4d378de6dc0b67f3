"""Verification codes: twelve characters a person can read off paper and type, and nobody can guess.

The alphabet leaves out what a reader confuses (0 and O, 1, I and L), so the 31 letters
and digits left are read one way. Eleven are random (31¹¹ ≈ 2.5·10¹⁶, about 55 bits: with
the public page's rate limit, guessing one of a million issued codes takes longer than any
document is valid), and the twelfth is a check character: a weighted sum modulo 31, which
catches any one mistyped character and any two neighbours swapped, so a typo is told apart
from a code nobody issued without asking the database.
"""

from __future__ import annotations

import re
import secrets

from forms.normalize import normalize_text

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
# What people type between groups or paste along: spaces (any), dashes of every width,
# dots, underscores, slashes, and the invisible joiners a Persian keyboard adds.
_SEPARATORS = re.compile("[\\s\u00a0\u202f\u200c\u200d\\-\u2010-\u2015\u2212_./]+")


def _check_character(body: str) -> str:
    # Weights 1..11 are distinct and non-zero modulo the prime 31: a changed character moves
    # the sum by (difference × weight), and two swapped neighbours by (difference × 1).
    total = sum((position + 1) * ALPHABET.index(char) for position, char in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_code() -> str:
    """A fresh code, as stored: twelve characters, no separators."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return body + _check_character(body)


def normalised(raw: str) -> str:
    """What a person typed, as codes are stored: ASCII digits, no separators, upper case.

    Persian and Arabic digits become ASCII digits and full-width letters ASCII letters
    (`forms.normalize.normalize_text`); nothing else is guessed.
    """
    return _SEPARATORS.sub("", normalize_text(raw)).upper()


def is_well_formed(code: str) -> bool:
    """Whether `code` (normalised) could be one we issued: its length, alphabet and check character."""
    return (len(code) == LENGTH and all(char in ALPHABET for char in code)
            and _check_character(code[:-1]) == code[-1])


def grouped(code: str) -> str:
    """A code in groups of four, as printed: ABCD-EFGH-JKMN."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
