"""Tracking codes: 12 digits a citizen can read out on the phone, with mod-97 check digits.

Ten random digits followed by two check digits (ISO 7064 MOD 97-10, as in IBAN), so a
mistyped digit or two swapped digits is caught before any lookup.
"""

from __future__ import annotations

import secrets


def check_digits(body: str) -> str:
    return f"{98 - (int(body) * 100) % 97:02d}"


def new_tracking_code() -> str:
    body = f"{secrets.randbelow(9 * 10**9) + 10**9}"
    return body + check_digits(body)


def is_valid_tracking_code(code: str) -> bool:
    digits = code.replace(" ", "").replace("-", "")
    return (len(digits) == 12 and digits.isascii() and digits.isdigit()
            and check_digits(digits[:10]) == digits[10:])
