"""Camunda 7 cron timer cycles (Quartz syntax) as ISO 8601 repetitions, where they are one.

A Quartz expression has the fields second, minute, hour, day of month, month, day of week
and an optional year. Those that fire at a fixed period keep their clock alignment when
written as a repetition that starts at the next firing time: ``0 0/15 * * * ?`` becomes
``R/<next quarter hour>/PT15M``, ``0 30 8 * * ?`` becomes ``R/<next 08:30>/P1D``,
``0 0 9 ? * MON`` becomes ``R/<next Monday 09:00>/P7D``.

Times are UTC, as the engine keeps them; Camunda reads cron in the server's time zone.
Steps may start late (``5/15``: at 5, 20, 35, 50). Everything else (lists, ranges, steps
that do not divide the unit, days of the month, ``L``, ``W``, ``#``, a year) fires at
irregular times and is refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

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
        # a/b fires at a, a+b, ... within the unit: a fixed period only when b divides the unit.
        if index < 3 and count % every == 0 and lowest <= start < lowest + every:
            return _Field("step", start, every)
        raise CronProblem(f"the {name} field '{text}' does not fire at a fixed period")
    raise CronProblem(f"the {name} field '{text}' (a list, range or special character) does not fire at a "
                      "fixed period")


def cron_to_iso(text: str, now: datetime | None = None) -> str:
    """The ISO 8601 repetition firing when Quartz cron `text` fires, from its first firing after
    `now` (UTC; the current time when not given).

    Raises:
        CronProblem: the expression does not fire at a fixed period.
    """
    if len(text) > 120:
        raise CronProblem("a cron expression is a few short fields, not this long")
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
    fields = [second, minute, hour]
    units = (1, 60, 3600)
    if weekday.kind == "fixed":
        if any(f.kind != "fixed" for f in fields):
            raise CronProblem("a day of the week needs a fixed time of day")
        # 1970-01-01, where Unix time starts, was a Thursday (Quartz day 5; Quartz counts Sunday as 1).
        period, iso = 7 * 86400, "P7D"
        offset = (weekday.value - 5) % 7 * 86400 + sum(f.value * u for f, u in zip(fields, units, strict=True))
    else:
        # The period is the step of the finest field that is not fixed; every coarser one must be '*'.
        finest = next((i for i in (0, 1, 2) if fields[i].kind != "fixed"), None)
        if finest is None:
            period, iso = 86400, "P1D"
        else:
            if any(fields[i].kind != "every" for i in range(finest + 1, 3)):
                raise CronProblem(f"the {_FIELDS[finest][0]} repeats only within some "
                                  f"{_FIELDS[finest + 1][0]}s, which is not a fixed period")
            period, iso = fields[finest].step * units[finest], f"PT{fields[finest].step}{'SMH'[finest]}"
        # Every period divides a day, so firings sit at a fixed offset from midnight UTC.
        offset = sum(f.value * u for f, u in zip(fields, units, strict=True) if f.kind != "every") % period
    moment = int((now or datetime.now(UTC)).timestamp())
    first = datetime.fromtimestamp(((moment - offset) // period + 1) * period + offset, UTC)
    return f"R/{first.strftime('%Y-%m-%dT%H:%M:%SZ')}/{iso}"
