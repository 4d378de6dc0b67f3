"""Timers fired by the tick, at the service level: every step restores the instance from
the database (state serialized, saved, read back), and the tick's `now` stands in for time
passing, so nothing sleeps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.db.models import HumanTaskRow, Instance, StartTriggerRow, TimerRow
from engine.services import event_delivery
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.events.helpers import audit_actions, deploy, instance, later, start, tick
from tests.fixtures import Tokens, composed


def _timers(runtime: Runtime, instance_id: str) -> list[TimerRow]:
    with runtime.reading() as session:
        return list(session.execute(select(TimerRow).where(TimerRow.instance_id == instance_id)
                                    .order_by(TimerRow.id)).scalars())


def test_duration_timer_fires_when_due_and_not_before(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    deploy(client, tokens, "timers.bpmn")
    instance_id = start(client, tokens, "wait_duration")
    [row] = _timers(runtime, instance_id)
    assert row.element_id == "wait" and row.kind == "duration" and row.fired_at is None
    assert later(minutes=59) < row.due_at < later(minutes=61)

    assert tick(runtime, minutes=30).fired == []
    assert instance(client, tokens, instance_id)["status"] == "waiting"

    assert tick(runtime, minutes=61).fired == [instance_id]
    done = instance(client, tokens, instance_id)
    assert done["status"] == "completed" and done["data"] == {"waited": True}
    assert ("timer.fired", "wait") in audit_actions(runtime, instance_id)
    [fired] = _timers(runtime, instance_id)
    assert fired.fired_at is not None
    assert tick(runtime, hours=5).fired == []


def test_date_timer_from_the_instance_data(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    deploy(client, tokens, "timers.bpmn")
    hearing = later(days=3).replace(microsecond=0)
    instance_id = start(client, tokens, "wait_date", {"hearing_at": hearing.isoformat()})
    [row] = _timers(runtime, instance_id)
    assert (row.kind, row.due_at) == ("date", hearing)

    assert tick(runtime, days=2).fired == []
    assert tick(runtime, days=3, minutes=1).fired == [instance_id]
    assert instance(client, tokens, instance_id)["data"]["heard"] is True


def test_cycle_on_a_non_interrupting_boundary_fires_three_times(client: TestClient, tokens: Tokens,
                                                                runtime: Runtime) -> None:
    deploy(client, tokens, "timers.bpmn")
    instance_id = start(client, tokens, "reminders")

    assert tick(runtime, minutes=15).fired == [instance_id]
    assert audit_actions(runtime, instance_id).count(("task.completed", "send_reminder")) == 1
    # One tick far ahead catches up the two cycles left, and no more: the cycle is R3.
    assert tick(runtime, hours=2).fired == [instance_id, instance_id]
    assert tick(runtime, hours=5).fired == []
    assert audit_actions(runtime, instance_id).count(("task.completed", "send_reminder")) == 3
    assert [r.fired_at is not None for r in _timers(runtime, instance_id)] == [True, True, True]

    view = instance(client, tokens, instance_id)
    assert view["status"] == "waiting"
    assert [t["name"] for t in view["tasks"] if t["status"] == "ready"] == ["review"]


def test_interrupting_boundary_timer_cancels_the_user_task(client: TestClient, tokens: Tokens,
                                                           runtime: Runtime) -> None:
    deploy(client, tokens, "timers.bpmn")
    instance_id = start(client, tokens, "deadline")
    assert tick(runtime, hours=1).fired == []
    assert tick(runtime, hours=2, minutes=1).fired == [instance_id]

    done = instance(client, tokens, instance_id)
    assert done["status"] == "completed" and done["data"] == {"expired": True}
    with runtime.reading() as session:
        task = session.execute(select(HumanTaskRow).where(HumanTaskRow.instance_id == instance_id)).scalar_one()
    assert (task.name, task.status) == ("answer", "cancelled")


def test_a_completed_task_takes_its_boundary_timer_with_it(client: TestClient, tokens: Tokens,
                                                           runtime: Runtime) -> None:
    deploy(client, tokens, "timers.bpmn")
    instance_id = start(client, tokens, "deadline")
    [task] = [t for t in instance(client, tokens, instance_id)["tasks"] if t["status"] == "ready"]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}},
                           headers=tokens.headers("analyst"))
    assert response.status_code == 200, response.text
    assert _timers(runtime, instance_id) == []
    assert tick(runtime, hours=3).fired == []


def _instances_of(runtime: Runtime, key: str) -> list[Instance]:
    with runtime.reading() as session:
        return list(session.execute(select(Instance).where(Instance.process_key == key)
                                    .order_by(Instance.created_at)).scalars())


def test_timer_start_cycle_creates_an_instance_each_hour(client: TestClient, tokens: Tokens,
                                                         runtime: Runtime) -> None:
    deploy(client, tokens, "timer_start_cycle.bpmn")
    assert tick(runtime, minutes=30).started == []
    first = tick(runtime, minutes=61).started
    assert len(first) == 1
    assert tick(runtime, minutes=61).started == []
    second = tick(runtime, minutes=121).started
    assert len(second) == 1 and second != first

    made = _instances_of(runtime, "hourly_report")
    assert [(i.status, i.data, i.owner) for i in made] == [("completed", {"reported": True}, "engine")] * 2
    assert ("instance.started", "hourly_report") in audit_actions(runtime, made[0].id)


def test_a_start_cycle_after_downtime_fires_once_and_keeps_its_clock(client: TestClient, tokens: Tokens,
                                                                     runtime: Runtime) -> None:
    deploy(client, tokens, "timer_start_cycle.bpmn")
    assert tick(runtime, minutes=30).started == []
    [trigger] = [t for t in _start_triggers(runtime, "hourly_report") if t.kind == "timer"]
    first_due = trigger.due_at
    assert len(tick(runtime, hours=10, minutes=30).started) == 1, "ten missed hours start one report, not ten"
    assert tick(runtime, hours=10, minutes=31).started == []
    [trigger] = [t for t in _start_triggers(runtime, "hourly_report") if t.kind == "timer"]
    assert trigger.due_at == first_due + timedelta(hours=10), "the next one is on the hour it would have been"
    assert len(tick(runtime, hours=11, minutes=1).started) == 1


def _start_triggers(runtime: Runtime, key: str) -> list[StartTriggerRow]:
    with runtime.reading() as session:
        return list(session.execute(select(StartTriggerRow).where(StartTriggerRow.process_key == key)).scalars())


def test_timer_start_date_fires_once_and_only_for_the_newest_version(client: TestClient, tokens: Tokens,
                                                                     runtime: Runtime) -> None:
    deploy(client, tokens, "timer_start_date.bpmn")
    assert tick(runtime, days=1).started == []
    new_year = datetime(2031, 1, 1, 0, 5, tzinfo=UTC)
    [started] = event_delivery.tick(runtime, new_year).started
    assert event_delivery.tick(runtime, new_year).started == []
    assert event_delivery.tick(runtime, datetime(2032, 6, 1, tzinfo=UTC)).started == []

    view = instance(client, tokens, started)
    assert view["status"] == "waiting"
    assert [t["name"] for t in view["tasks"] if t["status"] == "ready"] == ["publish"]
    with runtime.reading() as session:
        triggers = session.execute(select(StartTriggerRow).where(StartTriggerRow.process_key == "new_year")).scalars()
        assert [(t.kind, t.active, t.fired) for t in triggers] == [("timer", False, 1)]
        assert session.execute(select(func.count()).select_from(TimerRow)
                               .where(TimerRow.instance_id == started)).scalar_one() == 0


def test_broker_tick_hands_each_due_timer_over_once_and_a_worker_fires_it(
        client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    deploy(client, tokens, "timers.bpmn")
    instance_id = start(client, tokens, "wait_duration")
    assert event_delivery.claim_due(runtime, later(minutes=30)) == ([], [])
    timers, starts = event_delivery.claim_due(runtime, later(minutes=61))
    assert len(timers) == 1 and starts == []
    # Handed over: the next beat does not send it again while it waits in the queue.
    assert event_delivery.claim_due(runtime, later(minutes=61, seconds=2)) == ([], [])
    assert event_delivery.fire_by_id(runtime, "timer", timers[0]) is None  # not due yet by the real clock
    with runtime.unit_of_work() as session:
        assert event_delivery.fire_timer(session, runtime, timers[0], later(minutes=61)) == instance_id
    assert event_delivery.fire_by_id(runtime, "timer", timers[0]) is None  # a duplicate delivery changes nothing
    assert instance(client, tokens, instance_id)["status"] == "completed"


def test_the_embedded_background_tick_also_fires_timers(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runtime `panjereh serve` composes ticks timers too, not only connector calls."""
    ticked: list[Runtime] = []
    done = threading.Event()

    def timers_tick(runtime: Runtime) -> None:
        ticked.append(runtime)
        done.set()

    monkeypatch.setattr(event_delivery, "tick", timers_tick)
    with composed(settings) as runtime:
        runtime.dispatcher.start(runtime)
        assert done.wait(timeout=30)
    assert ticked[0] is runtime
