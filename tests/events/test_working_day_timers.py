"""Boundary timers counted in working days on the official calendar (`working_days(2)`): the
overdue review escalates only after two working days, Fridays and holidays skipped. The
calendar reaches the model workers with the change, as the settings describe it (here with a
corrections file that closes the offices on a chosen Thursday)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import holidays
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.core.working_calendar import FRIDAY, TEHRAN, jalali_text
from engine.db.base import utcnow
from engine.db.models import HumanTaskRow, TimerRow
from engine.services import event_delivery
from engine.services.calendar_file import working_calendar
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.events.helpers import deploy, instance, start
from tests.fixtures import Tokens


def _quiet_wednesday() -> date:
    """A Wednesday at least a week ahead whose Saturday and Sunday are no official holiday."""
    day = utcnow().astimezone(TEHRAN).date() + timedelta(days=7)
    while True:
        day += timedelta(days=1)
        official = holidays.country_holidays("IR", years=[day.year, day.year + 1])
        if day.weekday() == 2 and not any(day + timedelta(days=n) in official for n in (0, 3, 4)):
            return day


WEDNESDAY = _quiet_wednesday()
THURSDAY = WEDNESDAY + timedelta(days=1)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    closure = tmp_path / "calendar.toml"
    year = jalali_text(THURSDAY)[:4]
    closure.write_text(f'[{year}]\nadded = [{{ date = "{jalali_text(THURSDAY)}", name = "Test closure" }}]\n',
                       encoding="utf-8")
    return settings.model_copy(update={"calendar_holidays_file": closure})


def _timer(runtime: Runtime, instance_id: str) -> TimerRow:
    with runtime.reading() as session:
        return session.execute(select(TimerRow).where(TimerRow.instance_id == instance_id)).scalar_one()


def test_a_review_escalates_after_two_working_days_skipping_a_holiday_and_friday(
        client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    deploy(client, tokens, "working_days.bpmn")
    received = datetime.combine(WEDNESDAY, time(10), TEHRAN)
    instance_id = start(client, tokens, "review_from_receipt", {"received_at": received.isoformat()})
    # Wednesday counts (before closing); Thursday is the closure, Friday the weekend:
    # Saturday is the first working day, Sunday the second, due at its closing hour.
    assert THURSDAY.weekday() + 1 == FRIDAY
    due = datetime.combine(WEDNESDAY + timedelta(days=4), time(14), TEHRAN)
    assert _timer(runtime, instance_id).due_at == due

    assert event_delivery.tick(runtime, due - timedelta(minutes=1)).fired == []
    assert event_delivery.tick(runtime, due + timedelta(minutes=1)).fired == [instance_id]
    assert instance(client, tokens, instance_id)["data"]["escalated"] is True
    with runtime.reading() as session:
        task = session.execute(select(HumanTaskRow).where(HumanTaskRow.instance_id == instance_id)).scalar_one()
    assert task.status == "cancelled"


def test_a_working_day_duration_counts_from_now_on_the_configured_calendar(
        client: TestClient, tokens: Tokens, runtime: Runtime, settings: Settings) -> None:
    deploy(client, tokens, "working_days.bpmn")
    before = utcnow()
    instance_id = start(client, tokens, "review_in_working_days")
    after = utcnow()
    calendar = working_calendar(settings)
    due_at = _timer(runtime, instance_id).due_at
    assert calendar.add_working_days(before, 2) - timedelta(seconds=2) <= due_at
    assert due_at <= calendar.add_working_days(after, 2) + timedelta(seconds=2)
    assert due_at - after > timedelta(days=1)

    assert event_delivery.tick(runtime, due_at - timedelta(minutes=1)).fired == []
    assert event_delivery.tick(runtime, due_at + timedelta(minutes=1)).fired == [instance_id]
    assert instance(client, tokens, instance_id)["data"]["escalated"] is True
