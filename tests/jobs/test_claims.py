"""The claim and settle rules that make duplicates harmless, in one process (no broker).

`test_celery_worker.py` shows them through real workers; here each rule is driven step by
step: who may take a call, when a claim counts as dead, what an attempt that lost its
claim may still do, and what happens when the instance will not take a result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from engine.db.base import utcnow
from engine.db.models import DataUse, Incident, ServiceCallRow
from engine.services import instances, service_calls
from engine.services.dispatch import BrokerDispatcher, InlineDispatcher
from engine.services.errors import Conflict, LostRace
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, Parked, Tokens, composed, model_files


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool) -> Settings:
    """Embedded mode, with no broker: this module overrides the broker tests' settings."""
    return Settings(var_dir=tmp_path / "var",
                    database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'panjereh.db'}",
                    processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN,
                    connectors={"sms": {"base_url": "http://agency.invalid/sms"}}, connector_timeout_seconds=5,
                    sandbox=False)


@pytest.fixture
def sent() -> list[httpx.Request]:
    """The requests the SMS gateway got (see `runtime`)."""
    return []


@pytest.fixture
def runtime(settings: Settings, sent: list[httpx.Request]) -> Iterator[Runtime]:
    """Nobody runs calls (each test runs them step by step), and the SMS gateway answers every
    send after a moment."""

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        time.sleep(0.2)
        return httpx.Response(202, json={"id": f"sms-{len(sent):06d}"})

    with composed(settings, dispatcher=Parked(), connector_transport=httpx.MockTransport(gateway)) as built:
        yield built


def parked_call(client: TestClient, tokens: Tokens, runtime: Runtime) -> str:
    """Start the SMS model; its call waits for the test, since nobody runs calls here."""
    assert client.post("/api/v1/deployments", files=model_files("sms_notice.bpmn"),
                       headers=tokens.headers("analyst")).status_code == 201
    started = client.post("/api/v1/processes/sms_notice/instances", json={"data": {}},
                          headers=tokens.headers("analyst"))
    assert started.status_code == 201, started.text
    with runtime.reading() as session:
        call_id: str = session.execute(select(ServiceCallRow.id).where(
            ServiceCallRow.instance_id == started.json()["id"])).scalar_one()
    return call_id


def row_of(runtime: Runtime, call_id: str) -> ServiceCallRow:
    with runtime.reading() as session:
        row = session.get(ServiceCallRow, call_id)
        assert row is not None
        return row


def age_claim(runtime: Runtime, call_id: str, seconds: float) -> None:
    with runtime.unit_of_work() as session:
        session.execute(update(ServiceCallRow).where(ServiceCallRow.id == call_id)
                        .values(claimed_at=utcnow() - timedelta(seconds=seconds)))


def test_a_live_claim_is_left_alone_and_a_dead_one_is_taken_over_with_the_same_key(
        client: TestClient, tokens: Tokens, runtime: Runtime, sent: list[httpx.Request]) -> None:
    call_id = parked_call(client, tokens, runtime)
    first = service_calls.claim(runtime, call_id)
    assert first is not None and first.attempt == 1
    assert service_calls.claim(runtime, call_id) is None  # a duplicate while the attempt may be running
    stale = service_calls.stale_after(runtime.settings)
    with runtime.reading() as session:
        assert service_calls.due(session, stale_after=stale) == []  # claimed, and not yet presumed dead
    age_claim(runtime, call_id, stale + 1)  # the worker died: nothing settled it in time
    with runtime.reading() as session:
        assert service_calls.due(session, stale_after=stale) == [call_id]
    second = service_calls.claim(runtime, call_id)
    assert second is not None and second.attempt == 2

    # The dead attempt comes back to life after all: its answer is no longer applied.
    operation, outcome = service_calls.call(runtime, runtime.connectors, first)
    assert service_calls.settle(runtime, first, operation, outcome) == "stale"
    operation, outcome = service_calls.call(runtime, runtime.connectors, second)
    assert service_calls.settle(runtime, second, operation, outcome) == "completed"
    assert [r.headers["Idempotency-Key"] for r in sent] == [f"panjereh-{call_id}"] * 2
    assert [r.headers["X-Panjereh-Attempt"] for r in sent] == ["1", "2"]
    assert row_of(runtime, call_id).status == "completed"
    assert service_calls.run(runtime, runtime.connectors, call_id) == "skipped"
    assert len(sent) == 2


def test_a_call_whose_every_attempt_died_becomes_an_incident(
        client: TestClient, tokens: Tokens, runtime: Runtime, sent: list[httpx.Request]) -> None:
    call_id = parked_call(client, tokens, runtime)
    for _ in range(3):  # the model allows three attempts; each one's worker dies
        assert service_calls.claim(runtime, call_id) is not None
        age_claim(runtime, call_id, service_calls.stale_after(runtime.settings) + 1)
    assert service_calls.claim(runtime, call_id) is None
    row = row_of(runtime, call_id)
    assert (row.status, row.attempts) == ("incident", 3)
    listed = client.get("/api/v1/incidents", headers=tokens.headers("admin")).json()
    assert [(i["call_id"], i["kind"]) for i in listed] == [(call_id, "worker-lost")]
    assert f"panjereh-{call_id}" in listed[0]["message"]
    assert sent == []  # the test's "workers" never got as far as the agency
    # A person retries it: a fresh set of attempts.
    assert client.post(f"/api/v1/incidents/{listed[0]['id']}/retry", headers=tokens.headers("admin")).status_code == 200
    assert service_calls.run(runtime, runtime.connectors, call_id) == "completed"


def test_an_incident_whose_call_was_cancelled_is_not_retried(
        client: TestClient, tokens: Tokens, runtime: Runtime, sent: list[httpx.Request]) -> None:
    """The instance was terminated while its call waited for an operator: retrying would call
    the agency for a case that no longer waits for the answer."""
    call_id = parked_call(client, tokens, runtime)
    for _ in range(3):
        assert service_calls.claim(runtime, call_id) is not None
        age_claim(runtime, call_id, service_calls.stale_after(runtime.settings) + 1)
    assert service_calls.claim(runtime, call_id) is None
    admin = tokens.headers("admin")
    [incident] = client.get("/api/v1/incidents", headers=admin).json()
    instance_id = row_of(runtime, call_id).instance_id
    assert client.post(f"/api/v1/instances/{instance_id}/terminate", json={"reason": "withdrawn"},
                       headers=admin).status_code == 200
    assert row_of(runtime, call_id).status == "cancelled"
    retried = client.post(f"/api/v1/incidents/{incident['id']}/retry", headers=admin)
    assert retried.status_code == 409
    assert "its service call is cancelled now; there is nothing to retry" in retried.text
    assert row_of(runtime, call_id).status == "cancelled"
    assert service_calls.run(runtime, runtime.connectors, call_id) == "skipped"
    assert sent == []


def test_two_runs_of_one_call_at_once_make_one_attempt(
        client: TestClient, tokens: Tokens, runtime: Runtime, sent: list[httpx.Request]) -> None:
    """Two deliveries of one call at the same moment (two worker processes, say): the claim
    lets one through, and the other finds the call taken."""
    call_id = parked_call(client, tokens, runtime)
    results: list[str] = []
    gate = threading.Barrier(2)

    def run() -> None:
        gate.wait()
        results.append(service_calls.run(runtime, runtime.connectors, call_id))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["completed", "skipped"]
    assert len(sent) == 1
    row = row_of(runtime, call_id)
    assert (row.status, row.attempts) == ("completed", 1)


def _failing_once(error: Exception, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make completing a service call raise `error` the first time."""
    calls: list[int] = []
    real: Callable[..., Any] = instances.complete_service_call

    def complete(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(instances, "complete_service_call", complete)
    return calls


def test_settling_again_when_someone_changed_the_instance_meanwhile(
        client: TestClient, tokens: Tokens, runtime: Runtime, sent: list[httpx.Request],
        monkeypatch: pytest.MonkeyPatch) -> None:
    call_id = parked_call(client, tokens, runtime)
    lost_lock = LostRace("the instance was changed by someone else at the same time")
    tries = _failing_once(lost_lock, monkeypatch)
    assert service_calls.run(runtime, runtime.connectors, call_id) == "completed"
    # Settled again (each try in as many rounds as its rehearsal takes), called once.
    assert len(tries) > 1 and len(sent) == 1
    with runtime.reading() as session:
        assert [u.outcome for u in session.execute(select(DataUse).where(DataUse.call_id == call_id)).scalars()] \
            == ["ok"]


def test_a_result_the_instance_cannot_take_opens_an_incident(
        client: TestClient, tokens: Tokens, runtime: Runtime, sent: list[httpx.Request],
        monkeypatch: pytest.MonkeyPatch) -> None:
    call_id = parked_call(client, tokens, runtime)
    _failing_once(Conflict("task send_sms is not waiting"), monkeypatch)
    assert service_calls.run(runtime, runtime.connectors, call_id) == "incident"
    with runtime.reading() as session:
        [incident] = session.execute(select(Incident).where(Incident.call_id == call_id)).scalars()
    assert incident.kind == "cannot-apply" and "not waiting" in incident.message
    assert row_of(runtime, call_id).status == "incident"


def test_a_broker_that_is_down_does_not_fail_the_change_that_parked_the_call(
        caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = BrokerDispatcher("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, "panjereh.dispatch"):
        dispatcher.hand_over(cast(Runtime, None), ["call-1", "call-2"])  # a broker needs no runtime to send
    assert "could not hand service call(s) call-1, call-2 to the broker" in caplog.text


def test_inline_dispatch_outlives_a_call_that_blows_up(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[tuple[object, str]] = []
    served = cast(Runtime, object())  # the runtime the dispatcher serves, handed to every run

    def run(runtime: Runtime, call_id: str) -> str:
        ran.append((runtime, call_id))
        if call_id == "bad":
            raise RuntimeError("database went away")
        return "completed"

    with caplog.at_level(logging.ERROR, "panjereh.dispatch"):
        InlineDispatcher(run, lambda _: []).hand_over(served, ["bad", "good"])
    assert ran == [(served, "bad"), (served, "good")]
    assert "service call bad failed to run" in caplog.text
