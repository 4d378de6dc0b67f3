"""Timers in broker mode: the worker's beat tick hands a due timer to a worker, which fires it.

A real `panjereh worker` (with its beat) runs against a real broker and this test's
database. The timer is made due by moving its row's due time into the past, as an hour
passing would; nothing in the test waits for a clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from engine.db.base import utcnow
from engine.db.models import TimerRow
from engine.services.runtime import Runtime
from tests.fixtures import Tokens, model_files
from tests.jobs.conftest import Broker, Workers, wait_for

pytestmark = pytest.mark.broker


def test_the_beat_tick_fires_a_due_timer_through_a_worker(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                         workers: Workers, broker: Broker) -> None:
    admin = tokens.headers("admin")
    assert client.post("/api/v1/deployments", files=model_files("events/timers.bpmn"), headers=admin).status_code == 201
    started = client.post("/api/v1/processes/wait_duration/instances", json={"data": {}}, headers=admin).json()
    assert started["status"] == "waiting"
    with runtime.reading() as session:
        [row] = session.execute(select(TimerRow).where(TimerRow.instance_id == started["id"])).scalars()
        assert row.fired_at is None and row.due_at > utcnow() + timedelta(minutes=59)
    workers.start()
    with runtime.unit_of_work() as session:
        session.execute(update(TimerRow).where(TimerRow.id == row.id).values(due_at=utcnow() - timedelta(seconds=1)))

    def fired() -> dict | None:
        found = client.get(f"/api/v1/instances/{started['id']}", headers=admin).json()
        return found if found["status"] == "completed" else None

    done = wait_for(fired, 45, "the worker to fire the timer", workers.logs, every=0.3)
    assert done["data"] == {"waited": True}
    with runtime.reading() as session:
        assert session.get(TimerRow, row.id).fired_at is not None
