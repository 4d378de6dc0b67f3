"""Working days on the Iranian official calendar, for legal deadlines and timers.

A day is a working day unless it falls on the weekend (Friday by default; many provinces also
close government offices on Thursday, so the weekend is a setting) or is an official holiday.
Holidays come from the `holidays` library's Iran calendar, which covers the solar holidays
(Nowruz, 12 and 13 Farvardin, 14 and 15 Khordad, 22 Bahman, 29 Esfand) and the Islamic-lunar
ones (Tasua, Ashura, Eid al-Fitr...). Lunar dates a year or more ahead are the library's
estimates; the government publishes the official calendar each year, and dates it adds or
removes are given here as `Overrides` per Jalali year (loaded from a file by the services).

Counting rule, as the Iranian administrative practice of "received today, counted from the
next working day": a request received on a working day before the offices' closing hour
(Tehran time, 14:00 by default) counts as received that day; one received later, or on a
day off, counts as received on the next working day. The deadline of N working days is the
closing hour of the Nth working day after that day of receipt (N = 0: the closing hour of
the day of receipt itself).

Pure: no file or clock is read here; callers pass `now`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from persiantools.jdatetime import JalaliDate

TEHRAN = ZoneInfo("Asia/Tehran")
# Python's weekday(): Monday 0 ... Thursday 3, Friday 4.
THURSDAY, FRIDAY = 3, 4
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A deadline further than this is a model error, not a legal term (the longest are months).
MAX_WORKING_DAYS = 1000


@dataclass(frozen=True)
class Overrides:
    """Official-calendar corrections: Gregorian dates added as holidays (with their names) or
    restored as working days. Hashable, as the calendar travels with a change's limits to the
    model workers and keys their cached script engines."""

    added: tuple[tuple[date, str], ...] = ()
    removed: frozenset[date] = frozenset()

    @functools.cached_property
    def names(self) -> Mapping[date, str]:
        """The added holidays by date."""
        return dict(self.added)


@functools.lru_cache(maxsize=64)
def _library_year(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("IR", years=year).items())


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days the offices work, and when they close."""

    weekend: frozenset[int] = frozenset({FRIDAY})
    closing: time = time(14, 0)
    overrides: Overrides = field(default_factory=Overrides)

    def holiday(self, day: date) -> str | None:
        """The name of the official holiday on `day`, or None."""
        if day in self.overrides.removed:
            return None
        if day in self.overrides.names:
            return self.overrides.names[day]
        return _library_year(day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        """Whether government offices work on `day` (a Tehran calendar date)."""
        return day.weekday() not in self.weekend and self.holiday(day) is None

    def _next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        # Nowruz with its weekend runs well under a month; a year of days off is a bad override.
        for _ in range(366):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day in the year after {day.isoformat()}")

    def day_of_receipt(self, moment: datetime) -> date:
        """The working day a request made at `moment` counts as received on."""
        local = _aware(moment).astimezone(TEHRAN)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.closing:
            return day
        return self._next_working_day(day)

    def add_working_days(self, moment: datetime, count: int) -> datetime:
        """The deadline `count` working days after `moment`: the closing hour of that day, in UTC.

        Raises:
            ValueError: `count` is negative or unreasonably large.
        """
        if not 0 <= count <= MAX_WORKING_DAYS:
            raise ValueError(f"working days must be between 0 and {MAX_WORKING_DAYS}, not {count}")
        day = self.day_of_receipt(moment)
        for _ in range(count):
            day = self._next_working_day(day)
        return datetime.combine(day, self.closing, TEHRAN).astimezone(UTC)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` is not after `start`)."""
        if end <= start:
            return 0
        return sum(1 for offset in range(1, (end - start).days + 1)
                   if self.is_working_day(start + timedelta(days=offset)))


def timer_helpers(calendar: WorkingCalendar) -> dict[str, Callable[..., str]]:
    """The functions models call in timer expressions (and scripts), bound to `calendar`.

    ``working_days(5)`` is an ISO 8601 duration, for a ``timeDuration``: from now until the
    deadline five working days ahead. ``working_days_after(start, 5)`` is that deadline as an
    ISO date-time counted from `start` (an ISO date-time, e.g. a submission time in the
    data), for a ``timeDate``. The clock is read here because SpiffWorkflow reads it too when
    it turns a duration into a due time, a moment later.
    """

    def working_days(count: Any) -> str:
        due = calendar.add_working_days(datetime.now(UTC), _count(count))
        return f"PT{max(0, int((due - datetime.now(UTC)).total_seconds()))}S"

    def working_days_after(start: Any, count: Any) -> str:
        if not isinstance(start, (str, datetime)):
            raise ValueError("working_days_after() takes an ISO date-time and a number of working days")
        moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        return calendar.add_working_days(moment, _count(count)).isoformat()

    return {"working_days": working_days, "working_days_after": working_days_after}


def _count(count: Any) -> int:
    if type(count) is not int:
        raise ValueError(f"a number of working days is a whole number, not {type(count).__name__}")
    return count


def _aware(moment: datetime) -> datetime:
    # Servers run in UTC; a naive time is a UTC time (as timers take it, engine.core.catch_events).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def parse_weekend(names: Iterable[str]) -> frozenset[int]:
    """Weekday numbers from English day names ("friday", "thursday").

    Raises:
        ValueError: a name is not a weekday, or every day would be off.
    """
    days = set()
    for name in names:
        key = name.strip().lower()
        if key not in WEEKDAY_NAMES:
            raise ValueError(f"'{name}' is not a day of the week (use {', '.join(WEEKDAY_NAMES)})")
        days.add(WEEKDAY_NAMES.index(key))
    if len(days) == 7:
        raise ValueError("the weekend cannot be every day of the week")
    return frozenset(days)


def jalali_to_gregorian(year: int, month: int, day: int) -> date:
    """The Gregorian date of a Jalali one.

    Raises:
        ValueError: no such Jalali date.
    """
    return JalaliDate(year, month, day).to_gregorian()  # type: ignore[no-untyped-call]  # unannotated upstream


def jalali_text(moment: date | datetime, persian_digits: bool = False) -> str:
    """`1405/09/30` (or `۱۴۰۵/۰۹/۳۰`) for a date, or for a time seen in Tehran."""
    day = _aware(moment).astimezone(TEHRAN).date() if isinstance(moment, datetime) else moment
    text = JalaliDate(day).strftime("%Y/%m/%d")  # type: ignore[no-untyped-call]  # unannotated upstream
    return text.translate(_PERSIAN_DIGITS) if persian_digits else text


_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
