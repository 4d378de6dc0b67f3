"""The official working calendar from settings: weekend, closing hour and the yearly corrections file.

The corrections file is TOML, one table per Jalali year, dates written the Jalali way:

    [1405]
    added = [{ date = "1405/01/05", name = "Government closure" }]
    removed = ["1405/03/14"]

`added` days are holidays whatever the library says; `removed` days are working days (unless
they fall on the weekend). A date outside its year's table is refused, so a typo cannot move
a holiday into another year unnoticed.
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any

from engine.core.working_calendar import Overrides, WorkingCalendar, jalali_to_gregorian, parse_weekend
from engine.settings import Settings


class CalendarFileError(ValueError):
    """The corrections file cannot be used; the message names the file, year and entry."""


def _jalali(text: Any, year: int, where: str) -> date:
    parts = text.split("/") if isinstance(text, str) else []
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise CalendarFileError(f"{where}: '{text}' is not a Jalali date like {year}/01/05")
    y, m, d = (int(p) for p in parts)
    if y != year:
        raise CalendarFileError(f"{where}: {text} is not in the year {year} it is listed under")
    try:
        return jalali_to_gregorian(y, m, d)
    except ValueError as err:
        raise CalendarFileError(f"{where}: {text} is not a Jalali date ({err})") from err


def read_overrides(path: Path) -> Overrides:
    """Parse and check the corrections file at `path`.

    Raises:
        CalendarFileError: unreadable, not TOML, or an entry is wrong (the message says which).
    """
    try:
        content = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CalendarFileError(f"calendar file {path}: cannot be read ({err.strerror})") from err
    except tomllib.TOMLDecodeError as err:
        raise CalendarFileError(f"calendar file {path}: not TOML ({err})") from err
    added: dict[date, str] = {}
    removed: set[date] = set()
    for key, table in content.items():
        where = f"calendar file {path}, [{key}]"
        if not (key.isascii() and key.isdigit() and 1300 <= int(key) <= 1500) or not isinstance(table, dict):
            raise CalendarFileError(f"{where}: tables are Jalali years, like [1405]")
        unknown = set(table) - {"added", "removed"}
        if unknown:
            raise CalendarFileError(f"{where}: unknown keys {sorted(unknown)} (use 'added' and 'removed')")
        for index, entry in enumerate(table.get("added", [])):
            spot = f"{where} added[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
                raise CalendarFileError(f"{spot}: write {{ date = \"{key}/01/05\", name = \"...\" }}")
            added[_jalali(entry.get("date"), int(key), spot)] = entry["name"].strip()
        for index, text in enumerate(table.get("removed", [])):
            removed.add(_jalali(text, int(key), f"{where} removed[{index}]"))
    both = sorted(added.keys() & removed)
    if both:
        raise CalendarFileError(f"calendar file {path}: {both[0].isoformat()} is both added and removed")
    return Overrides(tuple(sorted(added.items())), frozenset(removed))


def working_calendar(settings: Settings) -> WorkingCalendar:
    """The calendar the settings describe.

    Raises:
        CalendarFileError: the corrections file is wrong.
        ValueError: the weekend names a day that does not exist.
    """
    overrides = read_overrides(settings.calendar_holidays_file) if settings.calendar_holidays_file else Overrides()
    return WorkingCalendar(parse_weekend(settings.calendar_weekend.split(",")),
                           time(settings.calendar_closing_hour), overrides)
