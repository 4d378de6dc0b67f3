"""A timer start event's expression is model code: it runs in a model worker, and one that
never ends is killed there while the server answers on. The start event is set aside with
the reason, and every other start event (timers, messages) goes on as before."""

from __future__ import annotations

import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.app import build_app
from engine.db.models import StartTriggerRow
from engine.services.event_delivery import TickReport
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.events.helpers import deploy, message, tick
from tests.fixtures import Tokens, serve
from tests.importer.bpmn_text import flow, model

# Two loops of a million rounds each. The sandbox's CPU limit is raised to 30 s here, far above
# the worker's wall clock of 5 s, so only the kill stops it in time (as for one long C call);
# evaluated in the serving process, it would hold the tick for those 30 s and fail otherwise.
# (The wall clock also covers a fresh worker's imports and compile, hence not less on a busy machine.)
ENDLESS = '"PT" + str(sum(1 for i in range(10**6) for j in range(10**6))) + "S"'
HOSTILE = model("\n".join([
    '<bpmn:startEvent id="soon"><bpmn:timerEventDefinition>'
    f'<bpmn:timeDuration>{ENDLESS}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>',
    '<bpmn:endEvent id="e" />', flow("f0", "soon", "e")]), key="hostile_timer")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"model_workers": 1, "model_wall_seconds": 5.0, "script_cpu_seconds": 30.0})


def _trigger(runtime: Runtime, key: str) -> StartTriggerRow:
    with runtime.reading() as session:
        return session.execute(select(StartTriggerRow).where(StartTriggerRow.process_key == key)).scalar_one()


def test_a_timer_start_expression_that_never_ends_is_killed_and_set_aside(client: TestClient, tokens: Tokens,
                                                                          runtime: Runtime) -> None:
    deployed = client.post("/api/v1/deployments", files=[("files", ("hostile.bpmn", HOSTILE, "text/xml"))],
                           headers=tokens.headers("analyst"))
    assert deployed.status_code == 201, deployed.text
    deploy(client, tokens, "timer_start_cycle.bpmn", "messages.bpmn")

    pool = runtime.changes.pool  # type: ignore[attr-defined]
    killed = pool.stats.killed  # the pool is shared by every runtime with these limits
    with serve(build_app(runtime)) as base:
        reports: list[TickReport] = []
        ticking = threading.Thread(target=lambda: reports.append(tick(runtime, minutes=61)))
        ticking.start()
        health = []
        while ticking.is_alive():
            health.append(httpx.get(base + "/api/v1/health", timeout=30).status_code)
        ticking.join()
    assert health and set(health) == {200}
    # The tick went on past the stopped expression: the hourly timer started its instance.
    [report] = reports
    assert len(report.started) == 1

    trigger = _trigger(runtime, "hostile_timer")
    assert not trigger.active and trigger.due_at is None
    assert "was stopped while it was evaluated" in (trigger.last_error or "")
    assert "PANJEREH_MODEL_WALL_SECONDS" in (trigger.last_error or "")
    assert pool.stats.killed == killed + 1
    # Set aside once, never evaluated again; the pool's fresh worker serves the rest.
    assert tick(runtime, minutes=200).started
    assert pool.stats.killed == killed + 1
    assert message(client, tokens, "new_order", None, {"item": "permit"})["outcome"] == "started"
