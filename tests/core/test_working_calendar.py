"""Working days on the Iranian calendar: the library's holidays for 1404 and 1405, the weekend
setting, the closing hour, and the official corrections file."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from engine.core.working_calendar import (
    FRIDAY,
    TEHRAN,
    THURSDAY,
    WorkingCalendar,
    jalali_text,
    jalali_to_gregorian,
    parse_weekend,
)
from engine.services.calendar_file import CalendarFileError, read_overrides, working_calendar
from engine.settings import Settings

CALENDAR = WorkingCalendar()


@pytest.mark.parametrize(("jalali", "what"), [
    ((1404, 1, 1), "Nowruz"), ((1404, 1, 4), "Nowruz"), ((1404, 1, 12), "Islamic Republic Day"),
    ((1404, 1, 13), "Nature's Day"), ((1404, 4, 14), "Tasua"), ((1404, 4, 15), "Ashura"),
    ((1405, 1, 1), "Nowruz"), ((1405, 1, 2), "Nowruz"), ((1405, 1, 3), "Nowruz"), ((1405, 1, 4), "Nowruz"),
    ((1405, 1, 12), "Islamic Republic Day"), ((1405, 1, 13), "Nature's Day"),
    ((1405, 4, 3), "Tasua"), ((1405, 4, 4), "Ashura"), ((1405, 3, 14), "Death of Imam Khomeini"),
])
def test_official_holidays_solar_and_lunar_are_days_off(jalali: tuple[int, int, int], what: str) -> None:
    day = jalali_to_gregorian(*jalali)
    assert what in (CALENDAR.holiday(day) or "")
    assert not CALENDAR.is_working_day(day)


def test_friday_is_off_and_thursday_only_where_configured() -> None:
    thursday, friday = date(2026, 12, 10), date(2026, 12, 11)
    assert (thursday.weekday(), friday.weekday()) == (THURSDAY, FRIDAY)
    assert CALENDAR.is_working_day(thursday) and not CALENDAR.is_working_day(friday)
    closed_thursdays = WorkingCalendar(weekend=parse_weekend(["thursday", "Friday"]))
    assert not closed_thursdays.is_working_day(thursday)
    with pytest.raises(ValueError, match="'fryday' is not a day of the week"):
        parse_weekend(["fryday"])


def test_working_days_across_nowruz_skip_the_holidays_and_fridays() -> None:
    # Wednesday 27 Esfand 1404, 10:00 in Tehran: counts from that day. Then Thursday 28 Esfand,
    # and Friday 29 Esfand to Tuesday 4 Farvardin are all off.
    received = datetime(2026, 3, 18, 10, 0, tzinfo=TEHRAN)
    due = CALENDAR.add_working_days(received, 3).astimezone(TEHRAN)
    assert due == datetime(2026, 3, 26, 14, 0, tzinfo=TEHRAN)
    assert jalali_text(due) == "1405/01/06"
    assert CALENDAR.working_days_between(date(2026, 3, 18), date(2026, 3, 26)) == 3


def test_the_closing_hour_decides_whether_today_counts() -> None:
    before = datetime(2026, 12, 7, 13, 59, tzinfo=TEHRAN)  # Monday
    after = datetime(2026, 12, 7, 14, 0, tzinfo=TEHRAN)
    assert CALENDAR.add_working_days(before, 0).astimezone(TEHRAN) == datetime(2026, 12, 7, 14, 0, tzinfo=TEHRAN)
    assert CALENDAR.add_working_days(after, 0).astimezone(TEHRAN) == datetime(2026, 12, 8, 14, 0, tzinfo=TEHRAN)
    # Wednesday evening: Thursday counts, Friday does not.
    wednesday_evening = datetime(2026, 12, 9, 18, 0, tzinfo=TEHRAN)
    assert CALENDAR.add_working_days(wednesday_evening, 1).astimezone(TEHRAN).date() == date(2026, 12, 12)
    late = WorkingCalendar(closing=time(16))
    assert late.add_working_days(datetime(2026, 12, 7, 15, 0, tzinfo=TEHRAN), 0).astimezone(TEHRAN).hour == 16
    with pytest.raises(ValueError, match="between 0 and"):
        CALENDAR.add_working_days(before, -1)


def test_jalali_text_in_persian_digits() -> None:
    assert jalali_text(datetime(2026, 12, 20, 22, 0, tzinfo=TEHRAN), persian_digits=True) == "۱۴۰۵/۰۹/۲۹"
    assert jalali_text(jalali_to_gregorian(1405, 9, 30), persian_digits=True) == "۱۴۰۵/۰۹/۳۰"


def test_the_corrections_file_adds_and_removes_days(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text('[1405]\nadded = [{ date = "1405/09/16", name = "Closure for air quality" }]\n'
                    'removed = ["1405/04/03"]\n', encoding="utf-8")
    settings = Settings(calendar_holidays_file=path, calendar_weekend="thursday, friday", calendar_closing_hour=13)
    calendar = working_calendar(settings)
    closure, tasua = jalali_to_gregorian(1405, 9, 16), jalali_to_gregorian(1405, 4, 3)
    assert calendar.holiday(closure) == "Closure for air quality" and not calendar.is_working_day(closure)
    assert calendar.holiday(tasua) is None and calendar.is_working_day(tasua)
    assert calendar.weekend == {THURSDAY, FRIDAY} and calendar.closing == time(13)


@pytest.mark.parametrize(("text", "message"), [
    ('[1405]\nadded = [{ date = "1404/01/05", name = "x" }]\n', "not in the year 1405"),
    ('[1405]\nremoved = ["1405/13/01"]\n', "is not a Jalali date"),
    ('[1405]\nremoved = ["05/01/1405"]\n', "is not in the year 1405"),
    ('[1405]\nadded = ["1405/01/05"]\n', "added\\[0\\]: write"),
    ('[1405]\nholidays = []\n', "unknown keys \\['holidays'\\]"),
    ('[next]\nadded = []\n', "tables are Jalali years"),
    ('[1405\n', "not TOML"),
    ('[1405]\nadded = [{ date = "1405/01/05", name = "x" }]\nremoved = ["1405/01/05"]\n', "both added and removed"),
])
def test_a_wrong_corrections_file_is_refused_with_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError, match=message):
        read_overrides(path)


def test_a_missing_corrections_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="cannot be read"):
        read_overrides(tmp_path / "absent.toml")
