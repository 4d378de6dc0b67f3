"""Iranian identifiers (and an e-mail address): the form we store, and whether it is valid.

Every `canonical_*` takes what a citizen typed (any digit set, pasted separators) and returns the form we
store, valid or not; every `check_*` takes that form and returns None, or why it is not valid:

- ``"length"``: not the right number of digits (or not digits at all),
- ``"checksum"``: the check digits do not match (a typo), or a placeholder like 1111111111,
- ``"shape"``: the right length but a pattern no real identifier has,
- ``"area-code"``: a landline whose area code does not exist,
- ``"letter"``: a vehicle plate whose letter is not one plates are issued with.

An e-mail address is checked for its shape only (``"shape"``): one ``@``, a dotted domain, no
spaces, at most 254 characters. Whether it reaches anyone only sending can tell.

The rules and their test vectors are in shared/research/iran-forms-and-identifiers.md §1.
"""

from __future__ import annotations

import re

from forms.normalize import compact

_MOBILE = re.compile(r"(?:\+98|0098|98|0)?(9[0-9]{9})")
_LANDLINE = re.compile(r"(?:\+98|0098|98|0)([1-8][0-9])([0-9]{8})")
_POSTAL = re.compile(r"[13-9]{5}[0-9]{5}")
_EMAIL = re.compile(r"[^@\s\x00-\x1f]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
# A private-vehicle plate: two digits, a letter, three digits, and the two-digit region code after
# the word ایران, e.g. «۱۲ ب ۳۴۵ ایران ۶۷». Stored as ``12 ب 345 ایران 67``.
_PLATE = re.compile(r"([0-9]{2})(الف|[آ-ی])([0-9]{3})(?:ایران)?([0-9]{2})")
_PLATE_STORED = re.compile(r"([0-9]{2}) (الف|[آ-ی]) ([0-9]{3}) ایران ([0-9]{2})")
PLATE_LETTERS = frozenset({"الف", "ب", "پ", "ت", "ث", "ج", "د", "ز", "ژ", "س", "ش", "ص", "ط", "ع", "ف", "ق",
                           "ک", "گ", "ل", "م", "ن", "و", "ه", "ی"})
LANDLINE_AREA_CODES = frozenset({
    "11", "13", "17", "21", "23", "24", "25", "26", "28", "31", "34", "35", "38", "41", "44", "45", "51", "54",
    "56", "58", "61", "66", "71", "74", "76", "77", "81", "83", "84", "86", "87",
})
_LEGAL_ID_WEIGHTS = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


def _digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def _placeholder(value: str) -> bool:
    # Repeated digits and an all-zero middle pass the checksums but are never issued.
    return len(set(value)) == 1 or value[3:9] == "000000"


def canonical_national_code(raw: str) -> str:
    value = compact(raw)
    # Some systems stored national codes as numbers and dropped the leading zeros.
    return value.zfill(10) if len(value) in (8, 9) and value.isascii() and value.isdigit() else value


def check_national_code(value: str) -> str | None:
    if not _digits(value, 10):
        return "length"
    if _placeholder(value):
        return "checksum"
    remainder = sum(int(value[i]) * (10 - i) for i in range(9)) % 11
    expected = remainder if remainder < 2 else 11 - remainder
    return None if int(value[9]) == expected else "checksum"


def check_legal_id(value: str) -> str | None:
    if not _digits(value, 11):
        return "length"
    if _placeholder(value):
        return "checksum"
    shift = int(value[9]) + 2
    remainder = sum((int(value[i]) + shift) * weight for i, weight in enumerate(_LEGAL_ID_WEIGHTS)) % 11
    return None if remainder % 10 == int(value[10]) else "checksum"


def check_postal_code(value: str) -> str | None:
    if not _digits(value, 10):
        return "length"
    # 0 and 2 are not used in the first five digits (handwritten they look like 5 and 3); four equal
    # leading digits are dummy values.
    if not _POSTAL.fullmatch(value) or len(set(value[:4])) == 1:
        return "shape"
    return None


def canonical_mobile(raw: str) -> str:
    value = compact(raw)
    found = _MOBILE.fullmatch(value)
    return "0" + found.group(1) if found else value


def check_mobile(value: str) -> str | None:
    return None if _digits(value, 11) and value.startswith("09") else "shape"


def canonical_landline(raw: str) -> str:
    value = compact(raw)
    found = _LANDLINE.fullmatch(value)
    return "0" + found.group(1) + found.group(2) if found else value


def check_landline(value: str) -> str | None:
    if not (_digits(value, 11) and value.startswith("0")):
        return "shape"
    return None if value[1:3] in LANDLINE_AREA_CODES else "area-code"


def canonical_sheba(raw: str) -> str:
    value = compact(raw).upper()
    # Bank apps often copy the 24 digits without the country code.
    return "IR" + value if _digits(value, 24) else value


def check_sheba(value: str) -> str | None:
    if not (value.startswith("IR") and _digits(value[2:], 24)):
        return "length"
    # ISO 7064 MOD 97-10: move "IRkk" to the end, letters as numbers (I = 18, R = 27).
    return None if int(value[4:] + "1827" + value[2:4]) % 97 == 1 else "checksum"


def check_card(value: str) -> str | None:
    if not _digits(value, 16):
        return "length"
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(value)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return None if total % 10 == 0 else "checksum"


def canonical_email(raw: str) -> str:
    """An address as typed, trimmed, with its domain (and, by common practice, all of it) in lower case."""
    return raw.strip().lower()


def check_email(value: str) -> str | None:
    return None if len(value) <= 254 and _EMAIL.fullmatch(value) else "shape"
def canonical_vehicle_plate(raw: str) -> str:
    value = compact(raw).replace("|", "").replace("ـ", "")
    found = _PLATE.fullmatch(value)
    return f"{found.group(1)} {found.group(2)} {found.group(3)} ایران {found.group(4)}" if found else value


def check_vehicle_plate(value: str) -> str | None:
    found = _PLATE_STORED.fullmatch(value)
    if found is None or "0" in (found.group(1)[0], found.group(3)[0], found.group(4)[0]):
        return "shape"
    return None if found.group(2) in PLATE_LETTERS else "letter"
