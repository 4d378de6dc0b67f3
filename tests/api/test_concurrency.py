"""Two people complete the same task at the same moment: exactly one wins, the other gets
409, and nothing is lost or doubled. Real threads against a real server; in CI this file
also runs on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from engine import audit
from engine.app import build_app
from engine.db.models import AuditEvent, Instance
from engine.services.runtime import Runtime
from tests.fixtures import Tokens, model_files, serve


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    with serve(build_app(runtime)) as url:
        yield url


def _race(url: str, headers: dict[str, str], bodies: list[dict]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies))
    results: list[httpx.Response] = [None] * len(bodies)  # type: ignore[list-item]

    def worker(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            barrier.wait()
            results[i] = http.post(url, json={"data": bodies[i]}, headers=headers)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_completion_exactly_one_wins(server: str, runtime: Runtime, tokens: Tokens, round_: int) -> None:
    with httpx.Client(base_url=server, headers=tokens.headers("analyst"), timeout=30) as http:
        assert http.post("/api/v1/deployments", files=model_files("approval.bpmn")).status_code in (200, 201)
        instance = http.post("/api/v1/processes/approval/instances", json={"data": {}}).json()
        [task] = http.get("/api/v1/tasks", params={"instance_id": instance["id"]}).json()
    responses = _race(f"{server}/api/v1/tasks/{task['id']}/complete", tokens.headers("analyst"),
                      [{"amount": 100 + i, "channel": "sms"} for i in range(4)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409, 409], [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    with runtime.reading() as session:
        stored = session.get(Instance, instance["id"])
        assert stored is not None and stored.data["amount"] == winner["data"]["amount"]
        completions = session.execute(select(AuditEvent).where(
            AuditEvent.instance_id == instance["id"], AuditEvent.action == "task.completed",
            AuditEvent.subject == "request")).scalars().all()
        assert len(completions) == 1
        assert audit.verify(session).ok


def test_stale_writer_is_refused(runtime: Runtime, tokens: Tokens, server: str) -> None:
    """The optimistic lock itself: a writer holding an old version cannot overwrite."""
    with httpx.Client(base_url=server, headers=tokens.headers("analyst"), timeout=30) as http:
        http.post("/api/v1/deployments", files=model_files("approval.bpmn"))
        instance = http.post("/api/v1/processes/approval/instances", json={"data": {}}).json()
    with runtime.sessions() as first, runtime.sessions() as second:
        stale = second.get(Instance, instance["id"])
        second.commit()
        fresh = first.get(Instance, instance["id"])
        assert stale is not None and fresh is not None
        fresh.error = "first"
        first.commit()
        stale.error = "second"
        with pytest.raises(StaleDataError):
            second.commit()
