"""The JSON Schema formats Panjereh checks on the server, in any dialect's form.

Each format has a canonical form (what is stored) and a check. A schema naming a format not listed here
is refused at deploy time: a format nobody checks would look enforced and not be.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jsonschema import FormatChecker

from forms import dates, identifiers
from forms.normalize import compact, normalize_text

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_DATA_URL = re.compile(r"data:[\w.+-]+/[\w.+-]+(;[\w.+-]+=[\w.+-]+)*(;base64)?,", re.ASCII)


@dataclass(frozen=True)
class Format:
    canonical: Callable[[str], str]
    check: Callable[[str], str | None]


class FormatProblem(ValueError):
    """Raised inside jsonschema's format checker so that the reason reaches the error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _international_phone(raw: str) -> str:
    value = compact(raw)
    return "+" + value[2:] if value.startswith("00") else value


def _uuid(raw: str) -> str:
    value = normalize_text(raw).lower()
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def _uuid_check(value: str) -> str | None:
    try:
        return None if str(uuid.UUID(value)) == value else "shape"
    except ValueError:
        return "shape"


def _pattern_check(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    return lambda value: None if pattern.fullmatch(value) else "shape"


def _uri(value: str) -> str | None:
    parts = urlsplit(value)
    return None if parts.scheme and (parts.netloc or parts.path) and " " not in value else "shape"


def _data_url(value: str) -> str | None:
    return None if _DATA_URL.match(value) else "shape"


FORMATS: dict[str, Format] = {
    "ir-national-code": Format(identifiers.canonical_national_code, identifiers.check_national_code),
    "ir-legal-id": Format(compact, identifiers.check_legal_id),
    "ir-postal-code": Format(compact, identifiers.check_postal_code),
    "ir-mobile": Format(identifiers.canonical_mobile, identifiers.check_mobile),
    "ir-landline": Format(identifiers.canonical_landline, identifiers.check_landline),
    "ir-sheba": Format(identifiers.canonical_sheba, identifiers.check_sheba),
    "ir-card": Format(compact, identifiers.check_card),
    "ir-vehicle-plate": Format(identifiers.canonical_vehicle_plate, identifiers.check_vehicle_plate),
    "jalali-date": Format(dates.canonical_jalali, dates.check_jalali),
    "date": Format(dates.canonical_iso_date, dates.check_iso_date),
    "time": Format(normalize_text, dates.check_time),
    "date-time": Format(normalize_text, dates.check_date_time),
    "email": Format(normalize_text, _pattern_check(_EMAIL)),
    "phone": Format(_international_phone, _pattern_check(_PHONE)),
    "uri": Format(normalize_text, _uri),
    "uuid": Format(_uuid, _uuid_check),
    "data-url": Format(str.strip, _data_url),
}


def canonical(format_name: str, value: str) -> str:
    """The stored form of `value` in a format; unknown formats only get the usual text normalisation."""
    found = FORMATS.get(format_name)
    return found.canonical(value) if found else normalize_text(value)


@functools.cache
def format_checker() -> FormatChecker:
    """A jsonschema checker for exactly the formats above; failures carry a `FormatProblem`."""
    checker = FormatChecker(formats=())
    for name, spec in FORMATS.items():
        checker.checks(name, raises=FormatProblem)(_raising(spec.check))
    return checker


def _raising(check: Callable[[str], str | None]) -> Callable[[Any], bool]:
    def run(instance: Any) -> bool:
        if not isinstance(instance, str):
            return True
        reason = check(instance)
        if reason:
            raise FormatProblem(reason)
        return True
    return run
