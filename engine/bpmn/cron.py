"""Camunda 7 cron timer cycles (Quartz syntax) as ISO 8601 repetitions, where they are one.

A Quartz expression has the fields second, minute, hour, day of month, month, day of week
and an optional year. Those that fire at a fixed period keep their clock alignment when
written as a repetition that starts at the next firing time: ``0 0/15 * * * ?`` becomes
``R/<next quarter hour>/PT15M``, ``0 30 8 * * ?`` becomes ``R/<next 08:30>/P1D``,
``0 0 9 ? * MON`` becomes ``R/<next Monday 09:00>/P7D``.

Times are UTC, as the engine keeps them; Camunda reads cron in the server's time zone.
Everything else (lists, ranges, steps that do not divide the unit, days of the month,
``L``, ``W``, ``#``, a year) fires at irregular times and is refused with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Field name, lowest value, how many values (for steps that must divide it).
_FIELDS = (("second", 0, 60), ("minute", 0, 60), ("hour", 0, 24), ("day of month", 1, 31), ("month", 1, 12),
           ("day of week", 1, 7))
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_STEP = re.compile(r"^(\*|\d+)/(\d+)$")


class CronProblem(ValueError):
    """A cron expression that is not a fixed period."""


@dataclass(frozen=True)
class _Field:
    kind: str  # "every", "fixed" or "step"
    value: int = 0
    step: int = 1


def _field(text: str, index: int) -> _Field:
    name, lowest, count = _FIELDS[index]
    upper = text.upper()
    if upper in ("*", "?"):
        return _Field("every")
    if index == 5 and upper in _DAYS:
        return _Field("fixed", _DAYS[upper])
    if upper.isdigit():
        value = int(upper)
        if not lowest <= value < lowest + count:
            raise CronProblem(f"{name} {value} is out of range")
        return _Field("fixed", value)
    step = _STEP.match(upper)
    if step:
        start = lowest if step.group(1) == "*" else int(step.group(1))
        every = int(step.group(2))
        if every == 0:
            raise CronProblem(f"a step of 0 in the {name} field")
        if every == 1 and start == lowest:
            return _Field("every")
        if start == lowest and count % every == 0 and index < 3:
            return _Field("step", start, every)
        raise CronProblem(f"the {name} field '{text}' does not fire at a fixed period")
    raise CronProblem(f"the {name} field '{text}' (a list, range or special character) does not fire at a "
                      "fixed period")


def _first(now: datetime, fits: Callable[[datetime], bool]) -> datetime:
    """The first whole second after `now` that `fits` (within a day: the period is at most one)."""
    moment = now.replace(microsecond=0) + timedelta(seconds=1)
    for _ in range(24 * 3600):
        if fits(moment):
            return moment
        moment += timedelta(seconds=1)
    raise CronProblem("no firing time within a day")


def cron_to_iso(text: str, now: datetime | None = None) -> str:
    """The ISO 8601 repetition firing when Quartz cron `text` fires, from after `now` (UTC).

    Raises:
        CronProblem: the expression does not fire at a fixed period.
    """
    parts = text.split()
    if len(parts) == 7:
        if parts[6] != "*":
            raise CronProblem("a year field other than '*' does not repeat")
        parts = parts[:6]
    if len(parts) != 6:
        raise CronProblem("a Quartz cron expression has six or seven fields (second first)")
    second, minute, hour, day, month, weekday = (_field(part, i) for i, part in enumerate(parts))
    if day.kind != "every" or month.kind != "every":
        raise CronProblem("days of the month and months do not fire at a fixed period")
    start = (now or datetime.now(UTC)).astimezone(UTC)
    if weekday.kind == "fixed":
        if not (second.kind == minute.kind == hour.kind == "fixed"):
            raise CronProblem("a day of the week needs a fixed time of day")
        first = start.replace(hour=hour.value, minute=minute.value, second=second.value, microsecond=0)
        # Quartz counts days of the week from Sunday = 1.
        while first <= start or first.isoweekday() % 7 + 1 != weekday.value:
            first += timedelta(days=1)
        return f"R/{first.strftime('%Y-%m-%dT%H:%M:%SZ')}/P7D"
    fields = [second, minute, hour]
    # The period is the step of the finest field that is not fixed; every coarser one must be '*'.
    finest = next((i for i in (0, 1, 2) if fields[i].kind != "fixed"), None)
    if finest is None:
        period = "P1D"
    else:
        if any(fields[i].kind != "every" for i in range(finest + 1, 3)):
            raise CronProblem(f"the {_FIELDS[finest][0]} repeats only within some "
                              f"{_FIELDS[finest + 1][0]}s, which is not a fixed period")
        period = f"PT{fields[finest].step}{'SMH'[finest]}"

    def fits(moment: datetime) -> bool:
        values = (moment.second, moment.minute, moment.hour)
        for index, field in enumerate(fields):
            if field.kind == "fixed" and values[index] != field.value:
                return False
            if field.kind == "step" and values[index] % field.step:
                return False
        return True

    first = _first(start, fits)
    return f"R/{first.strftime('%Y-%m-%dT%H:%M:%SZ')}/{period}"
