"""Connector calls in broker mode, through real workers: at least once, exactly one effect.

Each test runs `panjereh worker` processes against a real broker (Redis and RabbitMQ), the
test's database (the worker and this process share it) and the simulated SMS gateway over
HTTP, which records every text it sends: the side effect that must happen once.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.db.models import AuditEvent, DataUse, ServiceCallRow
from engine.services.dispatch import RUN_CALL, make_celery
from engine.services.runtime import Runtime
from tests.fixtures import Tokens, model_files
from tests.jobs.conftest import Agency, Broker, Workers, wait_for

pytestmark = pytest.mark.broker

PHONE = "09121234567"


def start_instance(client: TestClient, tokens: Tokens) -> str:
    deployed = client.post("/api/v1/deployments", files=model_files("sms_notice.bpmn"),
                           headers=tokens.headers("analyst"))
    assert deployed.status_code in (200, 201), deployed.text
    started = client.post("/api/v1/processes/sms_notice/instances", json={"data": {}},
                          headers=tokens.headers("analyst"))
    assert started.status_code == 201, started.text
    instance_id: str = started.json()["id"]
    return instance_id


def instance(client: TestClient, tokens: Tokens, instance_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/instances/{instance_id}", headers=tokens.headers("admin"))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def wait_completed(client: TestClient, tokens: Tokens, instance_id: str, workers: Workers,
                   timeout: float) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        found = instance(client, tokens, instance_id)
        return found if found["status"] == "completed" else None

    completed: dict[str, Any] = wait_for(done, timeout, f"instance {instance_id} to complete", workers.logs,
                                         every=0.2)
    return completed


def the_call(runtime: Runtime, instance_id: str) -> ServiceCallRow:
    with runtime.reading() as session:
        return session.execute(select(ServiceCallRow).where(ServiceCallRow.instance_id == instance_id)).scalar_one()


def audit_actions(runtime: Runtime, instance_id: str) -> list[str]:
    with runtime.reading() as session:
        return list(session.execute(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                    .order_by(AuditEvent.id)).scalars())


def answered_data_uses(runtime: Runtime, call_id: str) -> int:
    """Data-use records of answered calls: one per attempt that settled with an answer."""
    with runtime.reading() as session:
        return int(session.execute(select(func.count()).select_from(DataUse)
                                   .where(DataUse.call_id == call_id, DataUse.outcome == "ok")).scalar_one())


def assert_sent_once(client: TestClient, tokens: Tokens, runtime: Runtime, agency: Agency,
                     instance_id: str) -> ServiceCallRow:
    """The instance completed once, the agency acted once, and the audit chain holds."""
    found = instance(client, tokens, instance_id)
    assert found["status"] == "completed", found
    assert found["data"]["sms"]["id"] == "sms-000001"
    [message] = agency.messages()
    assert message["to"] == PHONE and message["text"] == "Your licence is ready."
    assert agency.status()["side_effects"] == 1
    actions = audit_actions(runtime, instance_id)
    assert actions.count("service_call.completed") == 1, actions
    assert actions.count("instance.completed") == 1, actions
    verified = client.get("/api/v1/audit/verify", headers=tokens.headers("admin")).json()
    assert verified["ok"] is True, verified
    row = the_call(runtime, instance_id)
    assert row.status == "completed"
    assert answered_data_uses(runtime, row.id) == 1
    return row


def test_happy_path_one_text_through_the_worker(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                agency: Agency, workers: Workers, broker: Broker) -> None:
    worker = workers.start()
    instance_id = start_instance(client, tokens)
    wait_completed(client, tokens, instance_id, workers, timeout=30)
    row = assert_sent_once(client, tokens, runtime, agency, instance_id)
    assert row.attempts == 1
    [request] = agency.sends()
    assert request["idempotency_key"] == f"panjereh-{row.id}" and request["case"] == instance_id
    assert f"service call {row.id}: attempt 1 answered -> completed" in worker.log()


def test_answer_lost_after_the_agency_acted_the_retry_is_answered_from_its_memory(
        client: TestClient, tokens: Tokens, runtime: Runtime, agency: Agency, workers: Workers,
        broker: Broker) -> None:
    # The first request is the agency's first: it sends the text, then the answer is lost (500).
    agency.behave(fail_every=1, fail_after_side_effect=True)
    worker = workers.start()
    instance_id = start_instance(client, tokens)
    wait_for(lambda: len(agency.sends()) == 1, 20, "the first attempt", workers.logs)
    agency.behave(fail_every=0, fail_after_side_effect=False)
    wait_completed(client, tokens, instance_id, workers, timeout=30)
    row = assert_sent_once(client, tokens, runtime, agency, instance_id)
    assert row.attempts == 2
    assert [(r["status"], r["injected"], r["replayed"]) for r in agency.sends()] == [
        (500, "failure-after-side-effect", False), (202, None, True)]
    assert f"service call {row.id}: retry 1 of 2" in worker.log()


def test_worker_killed_mid_call_the_text_is_still_sent_once(
        client: TestClient, tokens: Tokens, runtime: Runtime, agency: Agency, workers: Workers,
        broker: Broker) -> None:
    # Slow enough that the worker is surely mid-call when it dies; the agency acts anyway,
    # after the delay, as a real one does when the client has gone away.
    agency.behave(latency_ms=2000)
    first = workers.start()
    began = time.monotonic()
    instance_id = start_instance(client, tokens)
    wait_for(lambda: agency.arrivals.sms_posts >= 1, 20, "the first attempt to reach the agency", workers.logs)
    workers.kill(first)
    killed_at = time.monotonic()
    row = the_call(runtime, instance_id)
    assert (row.status, row.attempts) == ("running", 1), "the attempt was claimed and never settled"

    second = workers.start()
    wait_completed(client, tokens, instance_id, workers, timeout=60)
    recovered_at = time.monotonic()
    row = assert_sent_once(client, tokens, runtime, agency, instance_id)
    # The dead attempt and the one that took over, with the same key: the agency acted on
    # the first and answered the second from its memory.
    assert row.attempts == 2
    requests = agency.sends()
    assert [r["idempotency_key"] for r in requests] == [f"panjereh-{row.id}"] * 2, requests
    assert [r["replayed"] for r in requests] == [False, True], requests
    log = second.log()
    assert f"service call {row.id}: reclaiming it; attempt 1" in log, workers.logs()
    assert f"service call {row.id}: attempt 2 answered -> completed" in log, workers.logs()
    # The killed worker's message comes back too (RabbitMQ at once, Redis after the
    # visibility timeout). Whichever comes first once the claim is stale, the redelivery or
    # the tick's sweep, takes the call over (the "reclaiming" above); the other finds it
    # claimed or settled. Either way: one text. (Generous: on a loaded machine a new worker and
    # its model workers start slowly, and the wait ends as soon as the line appears.)
    wait_for(lambda: f"service call {row.id}: message redelivered" in second.log(), 90,
             "the killed worker's message to be redelivered", workers.logs)

    def all_deliveries_done() -> bool:
        lines = second.log().splitlines()
        received = sum(f"{RUN_CALL}[" in line and "received" in line for line in lines)
        return received == sum(f"{RUN_CALL}[" in line and "succeeded in" in line for line in lines)

    wait_for(all_deliveries_done, 15, "every delivery to the second worker to be processed", workers.logs)
    assert agency.status()["side_effects"] == 1 and len(agency.messages()) == 1
    assert audit_actions(runtime, instance_id).count("service_call.completed") == 1
    print(f"\n[{broker.name}] kill test: first attempt killed {killed_at - began:.1f} s after start; "
          f"completed {recovered_at - killed_at:.1f} s after the kill; total {time.monotonic() - began:.1f} s")


def test_agency_down_retries_then_incident_then_retry_completes(
        client: TestClient, tokens: Tokens, runtime: Runtime, agency: Agency, workers: Workers,
        broker: Broker) -> None:
    agency.outage(down=True)
    workers.start()
    instance_id = start_instance(client, tokens)

    def incident() -> dict[str, Any] | None:
        listed = client.get("/api/v1/incidents", headers=tokens.headers("admin")).json()
        return next((i for i in listed if i["instance_id"] == instance_id), None)

    opened: dict[str, Any] = wait_for(incident, 40, "the incident", workers.logs, every=0.2)
    assert opened["kind"] == "retries-exhausted" and "agency-unavailable" in opened["message"], opened
    row = the_call(runtime, instance_id)
    assert (row.status, row.attempts) == ("incident", 3)
    actions = audit_actions(runtime, instance_id)
    assert actions.count("service_call.retry") == 2 and actions.count("incident.opened") == 1, actions
    refused = agency.sends()
    assert [r["status"] for r in refused] == [503, 503, 503], refused
    # Each retry waited for its backoff (base 1: 0.5 to 1 s) and was sent by the tick.
    times = [datetime.fromisoformat(r["at"]) for r in refused]
    assert all((later - earlier).total_seconds() >= 0.5 for earlier, later in itertools.pairwise(times)), times
    assert agency.status()["side_effects"] == 0

    agency.outage(down=False)
    retried = client.post(f"/api/v1/incidents/{opened['id']}/retry", headers=tokens.headers("admin"))
    assert retried.status_code == 200, retried.text
    assert retried.json()["resolved_by"] is not None
    wait_completed(client, tokens, instance_id, workers, timeout=30)
    row = assert_sent_once(client, tokens, runtime, agency, instance_id)
    assert row.attempts == 1  # a fresh set of attempts
    assert incident() is None
    # The three refusals and the success are each on the citizen's data-use record.
    with runtime.reading() as session:
        outcomes = list(session.execute(select(DataUse.outcome).where(DataUse.call_id == row.id)
                                        .order_by(DataUse.id)).scalars())
    assert outcomes == ["agency-unavailable"] * 3 + ["ok"], outcomes


def test_duplicate_deliveries_change_nothing(client: TestClient, tokens: Tokens, runtime: Runtime,
                                             agency: Agency, workers: Workers, broker: Broker) -> None:
    # Two workers side by side, so duplicates really arrive while the first attempt runs.
    agency.behave(latency_ms=1500)
    first = workers.start(wait=False)
    second = workers.start(beat=False, wait=False)
    workers.wait_ready(first)
    workers.wait_ready(second)
    instance_id = start_instance(client, tokens)  # the API hands the call over once...
    call_id = the_call(runtime, instance_id).id
    sender = make_celery(broker.url)
    for _ in range(3):  # ...and it is delivered three more times
        sender.send_task(RUN_CALL, args=[call_id])
    wait_completed(client, tokens, instance_id, workers, timeout=30)

    def outcomes() -> list[str]:
        logs = first.log() + second.log()
        return [line.rsplit(": ", 1)[1].strip("'") for line in logs.splitlines()
                if f"{RUN_CALL}[" in line and "succeeded in" in line]

    # Four deliveries or more: a tick that looked between the commit and the claim sent one too.
    finished = wait_for(lambda: (found := outcomes()) and len(found) >= 4 and "completed" in found and found, 30,
                        "all four deliveries to be processed", workers.logs)
    assert finished.count("completed") == 1 and set(finished) == {"completed", "skipped"}, workers.logs()
    row = assert_sent_once(client, tokens, runtime, agency, instance_id)
    assert row.attempts == 1
    # Delivered again once settled: still nothing.
    sender.send_task(RUN_CALL, args=[call_id])
    wait_for(lambda: f"service call {call_id}: skipped (already completed)" in first.log() + second.log(), 20,
             "the late duplicate to be skipped", workers.logs)
    assert_sent_once(client, tokens, runtime, agency, instance_id)
    assert len(agency.sends()) == 1  # the duplicates never reached the agency

