"""No model code runs while SQLite's write lock is held, on any path that changes instances.

Each run of model code here first tries to take the database's one write lock itself, on a
connection of its own that does not wait: had the change's own transaction (or any other)
been open around the model code, the lock would be taken. Covered: a start, a task
completion, a signal to more receivers than a unit of work has rounds (so they must be found
together) that also starts an instance, a signal an instance throws to others, a message
delivered by correlation, a buffered message taken at a catch, and a timer fired by the tick.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.services import instance_store
from engine.services.rehearsal import MAX_ROUNDS, ChangeRun
from engine.services.runtime import Runtime
from tests.events.helpers import deploy, instance, message, start, tick
from tests.fixtures import PG_URL, Tokens

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="checks SQLite's one write lock")


class LockProbe:
    """Records every run of model code, and those that found the write lock taken."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.runs: list[str] = []
        self.under_lock: list[str] = []

    def run(self, real: Any, runtime: Runtime, instance_id: str | None, run: ChangeRun) -> Any:
        what = f"{type(run.change).__name__} on {run.process_key}"
        self.runs.append(what)
        probe = sqlite3.connect(self.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            self.under_lock.append(what)
        finally:
            probe.close()
        return real(runtime, instance_id, run)


@pytest.fixture
def probe(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> LockProbe:
    assert runtime.engine.url.database is not None
    found = LockProbe(runtime.engine.url.database)
    real = instance_store.run_model_code
    monkeypatch.setattr(instance_store, "run_model_code", lambda *args: found.run(real, *args))
    return found


def test_no_change_runs_model_code_under_the_write_lock(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                        probe: LockProbe) -> None:
    deploy(client, tokens, "signals.bpmn")
    deploy(client, tokens, "messages.bpmn")
    deploy(client, tokens, "timers.bpmn")

    receivers = [start(client, tokens, "await_recall") for _ in range(MAX_ROUNDS + 2)]
    signal = client.post("/api/v1/signals", json={"name": "product_recall", "payload": {"product": "heater"}},
                         headers=tokens.headers("admin"))
    assert signal.status_code == 200, signal.text
    assert sorted(signal.json()["instances"]) == sorted(receivers) and len(signal.json()["started"]) == 1

    more = [start(client, tokens, "await_recall") for _ in range(2)]
    start(client, tokens, "announce_recall", {"product": "toaster"})
    assert all(instance(client, tokens, i)["status"] == "completed" for i in more)

    payer = start(client, tokens, "await_payment", {"order_id": "A1"})
    paid = message(client, tokens, "payment_received", "A1", {"order_id": "A1", "amount": 120})
    assert paid["outcome"] == "delivered" and instance(client, tokens, payer)["status"] == "completed"

    late = start(client, tokens, "late_catch", {"case_no": "C-7"})
    assert message(client, tokens, "documents_ready", "C-7", {"pages": 3})["outcome"] == "buffered"
    [task] = [t for t in instance(client, tokens, late)["tasks"] if t["status"] == "ready"]
    completed = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}},
                            headers=tokens.headers("analyst"))
    assert completed.status_code == 200, completed.text
    assert instance(client, tokens, late)["status"] == "completed"

    waiter = start(client, tokens, "wait_duration")
    assert waiter in tick(runtime, hours=2).fired

    kinds = {run.split(" on ")[0] for run in probe.runs}
    assert kinds >= {"Start", "CompleteTask", "CatchSignal", "CatchMessage", "FireTimer"}, kinds
    assert probe.under_lock == []
