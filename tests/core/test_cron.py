"""Camunda 7 cron cycles: the ones that fire at a fixed period become ISO repetitions that
fire at the same clock times; the others are refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.core.cron import CronProblem, cron_to_iso

NOW = datetime(2026, 11, 29, 5, 14, 7, 300000, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(("cron", "iso"), [
    ("0/5 0/1 * 1/1 * ?", "R/2026-11-29T05:14:10Z/PT5S"),  # Camunda's external-task examples
    ("* * * * * ?", "R/2026-11-29T05:14:08Z/PT1S"),
    ("0 0/15 * * * ?", "R/2026-11-29T05:15:00Z/PT15M"),
    ("30 * * * * ?", "R/2026-11-29T05:14:30Z/PT1M"),
    ("0 0 * * * ?", "R/2026-11-29T06:00:00Z/PT1H"),
    ("0 0 0/6 * * ?", "R/2026-11-29T06:00:00Z/PT6H"),
    ("0 30 8 * * ?", "R/2026-11-29T08:30:00Z/P1D"),
    ("0 0 5 * * ? *", "R/2026-11-30T05:00:00Z/P1D"),
    ("0 0 9 ? * MON", "R/2026-11-30T09:00:00Z/P7D"),
    ("0 15 10 ? * 1", "R/2026-11-29T10:15:00Z/P7D"),  # Quartz counts Sunday as 1
    ("0 0 5 ? * SUN", "R/2026-12-06T05:00:00Z/P7D"),
    ("5/15 * * * * ?", "R/2026-11-29T05:14:20Z/PT15S"),
    ("0 5/15 * * * ?", "R/2026-11-29T05:20:00Z/PT15M"),
])
def test_fixed_periods_keep_their_clock_times(cron: str, iso: str) -> None:
    assert cron_to_iso(cron, NOW) == iso


def test_a_firing_time_itself_counts_as_past() -> None:
    assert cron_to_iso("0 0 * * * ?", datetime(2026, 11, 29, 6, 0, tzinfo=UTC)) == "R/2026-11-29T07:00:00Z/PT1H"


def test_the_repetition_fires_when_the_cron_would() -> None:
    start, period = cron_to_iso("0 0/20 * * * ?", NOW).split("/")[1:]
    first = datetime.fromisoformat(start)
    fires = [first + timedelta(minutes=20) * n for n in range(6)]
    assert [(f.hour, f.minute, f.second) for f in fires] == [(5, 20, 0), (5, 40, 0), (6, 0, 0), (6, 20, 0),
                                                             (6, 40, 0), (7, 0, 0)]
    assert period == "PT20M"


@pytest.mark.parametrize(("cron", "reason"), [
    ("0 0/7 * * * ?", "'0/7' does not fire at a fixed period"),
    ("0 20/15 * * * ?", "'20/15' does not fire at a fixed period"),
    ("* 5 * * * ?", "repeats only within some minutes"),
    ("0 0 12 1 * ?", "days of the month and months"),
    ("0 0 9 ? * MON-FRI", "'MON-FRI' (a list, range or special character)"),
    ("0 0 9 * * ? 2027", "a year field other than '*'"),
    ("0 0 9 L * ?", "'L' (a list, range or special character)"),
    ("0 0/0 * * * ?", "a step of 0"),
    ("0 61 * * * ?", "minute 61 is out of range"),
    ("0 0 * * *", "six or seven fields"),
    ("0 * 9 ? * MON", "needs a fixed time of day"),
    ("0 " + "9" * 5000 + " * * * ?", "not this long"),
])
def test_irregular_crons_are_refused_with_the_reason(cron: str, reason: str) -> None:
    with pytest.raises(CronProblem, match=reason.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        cron_to_iso(cron, NOW)
