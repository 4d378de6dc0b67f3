"""Model code runs in worker processes: a hostile change is killed there, the server answers on.

The server here is real (uvicorn in a thread) and its model workers are real processes. A
task whose completion runs code that never ends (the script's CPU limit is set far above the
worker's wall-clock limit, so only the kill can end it, as for one long C call) keeps
`/health` answering while it runs; then the worker is killed, the caller gets 422 naming the
stop, the instance keeps its state (the task is still open) and fails with an incident an
operator sees, and the next change runs in a fresh worker.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from engine.app import build_app
from engine.db.models import Incident
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import Tokens, serve
from tests.importer.bpmn_text import flow, model, script

ENDLESS = "x = 0\nwhile True:\n    x = x + 1"
HOSTILE = model("\n".join([
    '<bpmn:startEvent id="s" />', '<bpmn:userTask id="ask" name="Answer" />', script("spin", ENDLESS),
    '<bpmn:endEvent id="e" />', flow("f0", "s", "ask"), flow("f1", "ask", "spin"), flow("f2", "spin", "e"),
]), key="hostile")
HOSTILE_START = model("\n".join([
    '<bpmn:startEvent id="s" />', script("spin", ENDLESS), '<bpmn:endEvent id="e" />',
    flow("f0", "s", "spin"), flow("f1", "spin", "e"),
]), key="hostile_start")
QUICK = model("\n".join([
    '<bpmn:startEvent id="s" />', script("add", "total = 2 + 2"), '<bpmn:endEvent id="e" />',
    flow("f0", "s", "add"), flow("f1", "add", "e"),
]), key="quick")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Only the worker's wall clock can stop the loop: the script's CPU limit and the change's
    # step and time budget are all far above it.
    return settings.model_copy(update={"model_workers": 1, "model_wall_seconds": 2.0, "script_cpu_seconds": 600.0,
                                       "max_change_seconds": 600.0})


def _post(base: str, path: str, tokens: Tokens, role: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(base + path, headers=tokens.headers(role), timeout=60, **kwargs)


def test_a_change_that_never_ends_is_killed_while_the_server_answers(runtime: Runtime, tokens: Tokens) -> None:
    with serve(build_app(runtime)) as base:
        for name, document in (("hostile.bpmn", HOSTILE), ("hostile_start.bpmn", HOSTILE_START),
                               ("quick.bpmn", QUICK)):
            deployed = _post(base, "/api/v1/deployments", tokens, "analyst",
                             files=[("files", (name, document, "application/xml"))])
            assert deployed.status_code == 201, deployed.text
        started = _post(base, "/api/v1/processes/hostile/instances", tokens, "analyst", json={"data": {}}).json()
        [task] = httpx.get(base + "/api/v1/tasks", params={"instance_id": started["id"], "status": "ready"},
                           headers=tokens.headers("analyst")).json()

        answered: list[httpx.Response] = []
        completing = threading.Thread(target=lambda: answered.append(
            _post(base, f"/api/v1/tasks/{task['id']}/complete", tokens, "analyst", json={"data": {"a": 1}})))
        completing.start()
        health_while_running = []
        while completing.is_alive():
            health_while_running.append(httpx.get(base + "/api/v1/health", timeout=30).status_code)
        completing.join()
        assert health_while_running and set(health_while_running) == {200}

        [response] = answered
        assert response.status_code == 422, response.text
        assert "the model's code was stopped" in response.json()["detail"]
        assert "PANJEREH_MODEL_WALL_SECONDS" in response.json()["detail"]
        instance = httpx.get(f"{base}/api/v1/instances/{started['id']}", headers=tokens.headers("analyst")).json()
        assert instance["status"] == "failed" and "stopped" in instance["error"]
        assert "a" not in instance["data"], "nothing of the stopped change is saved"
        still_open = httpx.get(base + "/api/v1/tasks", params={"instance_id": started["id"], "status": "ready"},
                               headers=tokens.headers("analyst")).json()
        assert [t["id"] for t in still_open] == [task["id"]]
        with runtime.reading() as session:
            kinds = session.execute(select(Incident.kind).where(Incident.instance_id == started["id"])).scalars()
            assert list(kinds) == ["model-stopped"]

        # A start that never ends leaves no instance behind.
        refused = _post(base, "/api/v1/processes/hostile_start/instances", tokens, "analyst", json={"data": {}})
        assert refused.status_code == 422 and "stopped" in refused.json()["detail"]
        # The pool replaced its killed workers: the next change runs.
        quick = _post(base, "/api/v1/processes/quick/instances", tokens, "analyst", json={"data": {}})
        assert quick.status_code == 201 and quick.json()["status"] == "completed", quick.text
