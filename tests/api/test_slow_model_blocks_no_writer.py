"""A slow model holds up only its own change: model code runs outside the write transaction.

Before, a change ran its model code inside the transaction that saved it; on SQLite that
transaction holds the database's one write lock, so while one model computed, every other
writer of the server waited (and past the busy timeout was answered 503). Here the code of
one completion is held running (a gate stands in for a slow script, so the test does not
depend on how fast this machine loops) while another instance's task is completed: that
completion commits while the first is still running, and then the first commits too.
"""

from __future__ import annotations

import ast
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import engine
from engine import audit
from engine.app import build_app
from engine.core.changes import CompleteTask
from engine.core.statuses import TaskStatus
from engine.db.models import HumanTaskRow
from engine.services import instance_store, rehearsal
from engine.services.rehearsal import ChangeRun
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import Tokens, model_files, serve
from tests.importer.bpmn_text import flow, model

# Long enough for any request of this test on a loaded machine; a test that waits this long
# has failed anyway.
PATIENCE = 60.0
# Two tasks at once, joined: both must be completed for the instance to end.
BOTH = model("\n".join([
    '<bpmn:startEvent id="s" />', '<bpmn:parallelGateway id="split" />',
    '<bpmn:userTask id="left" name="Left" />', '<bpmn:userTask id="right" name="Right" />',
    '<bpmn:parallelGateway id="join" />', '<bpmn:endEvent id="e" />',
    flow("f0", "s", "split"), flow("f1", "split", "left"), flow("f2", "split", "right"),
    flow("f3", "left", "join"), flow("f4", "right", "join"), flow("f5", "join", "e"),
]), key="both")
# The services a route calls to change instances: each runs model code.
CHANGING = {("instances", name) for name in ("start", "complete_task", "complete_service_call", "fail_service_call",
                                             "terminate")} | {("event_delivery", "deliver_message"),
                                                              ("event_delivery", "broadcast_signal")}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A writer queued behind the write lock gives up after this and is answered 503, so the
    # test fails quickly where a slow model blocks other writers.
    return settings.model_copy(update={"database_timeout_seconds": 2.0})


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    with serve(build_app(runtime)) as url:
        yield url


class Gate:
    """Holds the model code of one task's completion running, the first time, until released."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.running = threading.Event()
        self.released = threading.Event()
        self.runs = 0

    def run(self, real: Any, runtime: Runtime, instance_id: str | None, run: ChangeRun) -> Any:
        if isinstance(run.change, CompleteTask) and run.change.task_id == self.task_id:
            self.runs += 1
            if not self.running.is_set():
                self.running.set()
                assert self.released.wait(PATIENCE), "the test never released the slow change"
        return real(runtime, instance_id, run)


def _ready_task(http: httpx.Client, instance_id: str) -> str:
    [task] = http.get("/api/v1/tasks", params={"instance_id": instance_id}).json()
    return str(task["id"])


def test_another_instance_commits_while_a_slow_model_runs(server: str, runtime: Runtime, tokens: Tokens,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with httpx.Client(base_url=server, headers=tokens.headers("analyst"), timeout=PATIENCE) as http:
        assert http.post("/api/v1/deployments", files=model_files("approval.bpmn")).status_code == 201
        slow, quick = (http.post("/api/v1/processes/approval/instances", json={"data": {}}).json()["id"]
                       for _ in range(2))
        slow_task, quick_task = _ready_task(http, slow), _ready_task(http, quick)

    gate = Gate(slow_task)
    real = instance_store.run_model_code
    monkeypatch.setattr(instance_store, "run_model_code", lambda *args: gate.run(real, *args))
    answers: dict[str, httpx.Response] = {}

    def complete(name: str, task_id: str) -> None:
        with httpx.Client(base_url=server, headers=tokens.headers("analyst"), timeout=PATIENCE) as http:
            answers[name] = http.post(f"/api/v1/tasks/{task_id}/complete",
                                      json={"data": {"amount": 100, "channel": "sms"}})

    slow_thread = threading.Thread(target=complete, args=("slow", slow_task))
    slow_thread.start()
    try:
        assert gate.running.wait(PATIENCE), "the slow change never ran"
        complete("quick", quick_task)
        still_running = slow_thread.is_alive()
    finally:
        gate.released.set()
        slow_thread.join(PATIENCE)

    assert answers["quick"].status_code == 200, answers["quick"].text
    assert still_running, "the quick completion was answered only after the slow one ended"
    assert answers["slow"].status_code == 200, answers["slow"].text
    with runtime.reading() as session:
        done = session.execute(select(HumanTaskRow.id).where(
            HumanTaskRow.id.in_([slow_task, quick_task]), HumanTaskRow.status == TaskStatus.COMPLETED)).scalars()
        assert set(done) == {slow_task, quick_task}
        assert audit.verify(session).ok


def test_a_change_whose_instance_moved_meanwhile_runs_again_on_what_was_saved(
        server: str, runtime: Runtime, tokens: Tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two tasks of one instance completed at once: the second commits while the first one's
    model code runs; the first one's outcome, computed on the state before, is not saved over
    it: the change runs again on the saved state, and both completions are kept."""
    with httpx.Client(base_url=server, headers=tokens.headers("analyst"), timeout=PATIENCE) as http:
        deployed = http.post("/api/v1/deployments", files=[("files", ("both.bpmn", BOTH, "application/xml"))])
        assert deployed.status_code == 201, deployed.text
        instance_id = http.post("/api/v1/processes/both/instances", json={"data": {}}).json()["id"]
        tasks = {t["name"]: t["id"] for t in http.get("/api/v1/tasks", params={"instance_id": instance_id}).json()}

    gate = Gate(tasks["left"])
    real = instance_store.run_model_code
    monkeypatch.setattr(instance_store, "run_model_code", lambda *args: gate.run(real, *args))
    answers: dict[str, httpx.Response] = {}

    def complete(name: str) -> None:
        with httpx.Client(base_url=server, headers=tokens.headers("analyst"), timeout=PATIENCE) as http:
            answers[name] = http.post(f"/api/v1/tasks/{tasks[name]}/complete", json={"data": {name: True}})

    left = threading.Thread(target=complete, args=("left",))
    left.start()
    try:
        assert gate.running.wait(PATIENCE), "the first completion never ran"
        complete("right")
    finally:
        gate.released.set()
        left.join(PATIENCE)

    assert answers["right"].status_code == 200, answers["right"].text
    assert answers["left"].status_code == 200, answers["left"].text
    assert gate.runs == 2, "the first completion was not run again on the state the second saved"
    final = answers["left"].json()
    assert final["status"] == "completed" and final["data"] == {"left": True, "right": True}, final
    with runtime.reading() as session:
        assert audit.verify(session).ok


def test_the_last_round_runs_in_place_what_it_does_not_know(client: TestClient, tokens: Tokens,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """A unit of work that never gets to know all its changes (here: it has one round only)
    still commits, running them in its transaction as every change ran before."""
    monkeypatch.setattr(rehearsal, "MAX_ROUNDS", 1)
    headers = tokens.headers("analyst")
    assert client.post("/api/v1/deployments", files=model_files("approval.bpmn"), headers=headers).status_code == 201
    started = client.post("/api/v1/processes/approval/instances", json={"data": {}}, headers=headers)
    assert started.status_code == 201, started.text
    [task] = client.get("/api/v1/tasks", params={"instance_id": started.json()["id"]}, headers=headers).json()
    with caplog.at_level(logging.WARNING, "panjereh.events"):
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"amount": 5, "channel": "sms"}},
                           headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["data"]["amount"] == 5
    assert "ran inside its write transaction after 0 rounds" in caplog.text


def _changes_inside_transactions(source: str, filename: str) -> tuple[int, list[str]]:
    """How many calls of `CHANGING` services `source` makes, and those made inside a `with`
    that holds a plain transaction open (`write()`, `unit_of_work()`) around the model code."""
    calls, inside = 0, []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and (node.func.value.id, node.func.attr) in CHANGING):
            calls += 1
    for node in ast.walk(tree):
        if not isinstance(node, ast.With):
            continue
        opened = [item.context_expr for item in node.items if isinstance(item.context_expr, ast.Call)]
        if not any(isinstance(c.func, ast.Name | ast.Attribute) and
                   (c.func.id if isinstance(c.func, ast.Name) else c.func.attr) in ("write", "unit_of_work")
                   for c in opened):
            continue
        inside += [f"{filename}:{call.lineno}: {call.func.value.id}.{call.func.attr}"
                   for statement in node.body for call in ast.walk(statement)
                   if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                   and isinstance(call.func.value, ast.Name) and (call.func.value.id, call.func.attr) in CHANGING]
    return calls, inside


def test_the_check_sees_a_change_inside_a_transaction() -> None:
    source = ("def post(write: WriterDep) -> None:\n"
              "    with write() as session:\n"
              "        instances.complete_task(session, runtime, principal, row, {})\n"
              "def page(write: WriterDep) -> None:\n"
              "    def work(session: Transaction) -> None:\n"
              "        instances.terminate(session, runtime, principal, instance_id, reason)\n"
              "    write.rehearsed(work)\n")
    assert _changes_inside_transactions(source, "<route>") == (2, ["<route>:3: instances.complete_task"])


def test_routes_change_instances_only_in_rehearsed_work() -> None:
    """Every route and page that changes instances hands its work to `write.rehearsed` or
    `run_rehearsed`, so no route runs model code inside an open write transaction."""
    root = Path(engine.__file__).resolve().parent
    calls, inside = 0, []
    for package in ("api", "web"):
        for path in sorted((root / package).rglob("*.py")):
            found, wrong = _changes_inside_transactions(path.read_text(encoding="utf-8"),
                                                        str(path.relative_to(root.parent)))
            calls += found
            inside += wrong
    assert inside == []
    assert calls >= 9, "the check found too few changes of instances to prove anything"
