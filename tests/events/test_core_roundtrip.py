"""engine.core.catch_events on a bare Execution, with the state dumped to JSON and restored
between every step (SpiffWorkflow's save/restore pattern): a wait read after a restore
must be the wait read before it, and an event delivered after a restore must land."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from engine.core import catch_events
from engine.core.execution import Execution, make_script_engine
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.fixtures import MODELS


def _package(name: str) -> Any:
    loaded, report = check([UploadedFile(name, (MODELS / "events" / name).read_bytes())], Settings())
    assert loaded is not None, report.problems
    return loaded.compiled


def _roundtrip(package: Any, execution: Execution) -> Execution:
    state, version = execution.dump()
    json.loads(state)
    return Execution.restore(package, execution.process_key, state, version, make_script_engine())


def _run(package: Any, key: str, data: dict[str, Any]) -> Execution:
    execution = Execution.start(package, key, data, make_script_engine())
    execution.advance()
    return _roundtrip(package, execution)


def test_cycle_waits_survive_restores_and_fire_three_times() -> None:
    package = _package("timers.bpmn")
    execution = _run(package, "reminders", {})
    dues = []
    for _ in range(3):
        [wait] = catch_events.timer_waits(execution)
        assert wait == catch_events.timer_waits(_roundtrip(package, execution))[0]
        dues.append(wait.due_at)
        catch_events.fire_timer(execution, wait.task_id)
        execution = _roundtrip(package, execution)
    assert [(b - a).total_seconds() for a, b in pairwise(dues)] == [600.0, 600.0]
    assert catch_events.timer_waits(execution) == []
    assert [t.spec_id for t in execution.human_tasks()] == ["review"]


def test_duration_timer_fires_after_a_restore_without_waiting_for_the_clock() -> None:
    package = _package("timers.bpmn")
    execution = _run(package, "wait_duration", {})
    [wait] = catch_events.timer_waits(execution)
    restored = _roundtrip(package, execution)
    catch_events.fire_timer(restored, wait.task_id)
    assert restored.status == "completed" and restored.data == {"waited": True}


def test_message_wait_correlation_and_delivery_across_a_restore() -> None:
    package = _package("messages.bpmn")
    execution = _run(package, "await_payment", {"order_id": 17})
    [wait] = catch_events.message_waits(execution)
    assert (wait.name, wait.correlation) == ("payment_received", "17")
    assert catch_events.catch_message(execution, "payment_received", {"order_id": 17, "amount": 5}, "18") is False
    execution = _roundtrip(package, execution)
    assert catch_events.catch_message(execution, "payment_received", {"order_id": 17, "amount": 5}, "17") is True
    assert _roundtrip(package, execution).data["settled"] == 5


def test_thrown_signal_is_taken_once_and_caught_elsewhere() -> None:
    package = _package("signals.bpmn")
    thrower = _run(package, "announce_recall", {"product": "lamp"})
    # The thrown signal is part of the saved state until the host takes it.
    [thrown] = catch_events.take_thrown(thrower)
    assert (thrown.kind, thrown.name, thrown.payload) == ("signal", "product_recall", {"product": "lamp"})
    assert catch_events.take_thrown(_roundtrip(package, thrower)) == []
    receiver = _run(package, "await_recall", {})
    assert [w.name for w in catch_events.signal_waits(receiver)] == ["product_recall"]
    assert catch_events.catch_signal(receiver, thrown.name, thrown.payload) is True
    assert _roundtrip(package, receiver).data == {"recall": {"product": "lamp"}}


def test_start_triggers_of_a_package() -> None:
    assert catch_events.start_triggers(_package("messages.bpmn"), "order_intake") == [
        catch_events.StartTrigger("order_arrived", "message", "new_order")]
    [trigger] = catch_events.start_triggers(_package("timer_start_cycle.bpmn"), "hourly_report")
    assert (trigger.kind, trigger.timer_kind) == ("timer", "cycle")
    assert catch_events.start_triggers(_package("timers.bpmn"), "wait_duration") == []
