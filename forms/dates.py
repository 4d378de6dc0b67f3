"""Dates as forms take them: ISO (Gregorian) and Jalali (``YYYY/MM/DD``), plus times.

Canonical forms follow the same contract as `forms.identifiers`: `canonical_*` returns what we store,
`check_*` returns None or the reason (``"shape"``: not written as a date; ``"not-real"``: no such day).
Calendar arithmetic is persiantools', not ours.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from persiantools.jdatetime import JalaliDate

from forms.normalize import ascii_digits, normalize_text

# Iran has kept +03:30 all year since it abolished daylight saving in 2022; a fixed offset avoids
# depending on the host's time zone database.
IRAN_TIME = timezone(timedelta(hours=3, minutes=30))
_PARTS = re.compile("[/\\-.\u060c\u066b\\s]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_JALALI_DATE = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2}")
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
_TIME_RE = re.compile(_TIME)
_DATE_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T" + _TIME)


def _jalali(year: int, month: int, day: int) -> JalaliDate:
    # persiantools ships py.typed but leaves its constructor unannotated; this is the one call site.
    return JalaliDate(year, month, day)  # type: ignore[no-untyped-call]


def today_in_iran() -> date:
    return datetime.now(UTC).astimezone(IRAN_TIME).date()


def _year_month_day(raw: str) -> tuple[int, int, int] | None:
    parts = [p for p in _PARTS.split(ascii_digits(normalize_text(raw))) if p]
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    # Year first (1403/07/15) or last (15/07/1403); two-digit years are ambiguous, so never guessed.
    if len(parts[0]) == 4:
        return int(parts[0]), int(parts[1]), int(parts[2])
    if len(parts[2]) == 4:
        return int(parts[2]), int(parts[1]), int(parts[0])
    return None


def canonical_jalali(raw: str) -> str:
    found = _year_month_day(raw)
    return f"{found[0]:04d}/{found[1]:02d}/{found[2]:02d}" if found else normalize_text(raw)


def check_jalali(value: str) -> str | None:
    if not _JALALI_DATE.fullmatch(value):
        return "shape"
    try:
        _jalali(int(value[:4]), int(value[5:7]), int(value[8:]))
    except ValueError:
        return "not-real"
    return None


def canonical_iso_date(raw: str) -> str:
    found = _year_month_day(raw)
    return f"{found[0]:04d}-{found[1]:02d}-{found[2]:02d}" if found else normalize_text(raw)


def check_iso_date(value: str) -> str | None:
    if not _ISO_DATE.fullmatch(value):
        return "shape"
    try:
        date.fromisoformat(value)
    except ValueError:
        return "not-real"
    return None


def check_time(value: str) -> str | None:
    return None if _TIME_RE.fullmatch(value) else "shape"


def check_date_time(value: str) -> str | None:
    if not _DATE_TIME_RE.fullmatch(value):
        return "shape"
    return check_iso_date(value[:10])


def as_gregorian(value: str) -> date | None:
    """The day a valid ISO or Jalali canonical date names, else None."""
    if check_iso_date(value) is None:
        return date.fromisoformat(value)
    if check_jalali(value) is None:
        gregorian: date = _jalali(int(value[:4]), int(value[5:7]), int(value[8:])).to_gregorian()
        return gregorian
    return None
