"""How often and how far apart a failing call is tried, as each modeler writes it.

The SMS gateway here is a real server that is always down (503); the test brings each
scheduled retry forward to now, so the attempts counted are the policy's, with no waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import FastAPI, Header, Response
from fastapi.testclient import TestClient
from sqlalchemy import update

from engine.db.base import utcnow
from engine.db.models import ServiceCallRow
from engine.services import service_calls
from engine.services.deployments import UploadedFile, check
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.connectors.flows import HEAD, case, deploy, spiff_operator, start
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, Tokens, serve

SMS = "sms/send"
ZEEBE_INPUTS = ('<zeebe:ioMapping><zeebe:input source="09121234567" target="to" />'
                '<zeebe:input source="Your licence is ready" target="text" /></zeebe:ioMapping>')
CAMUNDA_INPUTS = ('<camunda:inputOutput><camunda:inputParameter name="to">09121234567</camunda:inputParameter>'
                  '<camunda:inputParameter name="text">Your licence is ready</camunda:inputParameter>'
                  "</camunda:inputOutput>")
C7_EXTERNAL = f'camunda:type="external" camunda:topic="{SMS}"'


def process(extensions: str, attributes: str = "") -> bytes:
    """One service task `send` between a start and an end."""
    return (f'{HEAD}<bpmn:process id="notify" isExecutable="true">'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            f'<bpmn:serviceTask id="send" name="Text the applicant" {attributes}>'
            f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>"
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>"
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="send" targetRef="end" />'
            "</bpmn:process></bpmn:definitions>").encode()


def zeebe(retries: str) -> bytes:
    return process(f'<zeebe:taskDefinition type="{SMS}" retries="{retries}" />{ZEEBE_INPUTS}')


def camunda7(cycle: str) -> bytes:
    return process(f"{CAMUNDA_INPUTS}<camunda:failedJobRetryTimeCycle>{cycle}</camunda:failedJobRetryTimeCycle>",
                   C7_EXTERNAL)


@pytest.fixture
def sends() -> Iterator[tuple[str, list[str]]]:
    """A gateway that is always down: its address, and the idempotency key of every send it got."""
    got: list[str] = []
    gateway = FastAPI()

    @gateway.post("/messages")
    def send(response: Response, idempotency_key: Annotated[str, Header()] = "") -> dict[str, str]:
        got.append(idempotency_key)
        response.status_code = 503
        return {"detail": "down for maintenance"}

    with serve(gateway) as url:
        yield url, got


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool, sends: tuple[str, list[str]]) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'p.db'}",
                    processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN, connector_timeout_seconds=5,
                    sandbox=False, connectors={"sms": {"base_url": sends[0]}})


def attempts_until_incident(runtime: Runtime, call_id: str, limit: int = 20) -> int:
    """Run every retry the call gets, brought forward to now; how many attempts were made in all."""
    for _ in range(limit):
        row = case_row(runtime, call_id)
        if row.status != "waiting":
            assert row.status == "incident", row.status
            return row.attempts
        with runtime.unit_of_work() as session:
            session.execute(update(ServiceCallRow).where(ServiceCallRow.id == call_id)
                            .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        service_calls.run(runtime, runtime.connectors, call_id)
    raise AssertionError(f"still retrying after {limit} attempts")


def case_row(runtime: Runtime, call_id: str) -> ServiceCallRow:
    with runtime.reading() as session:
        row = session.get(ServiceCallRow, call_id)
        assert row is not None
        return row


@pytest.mark.parametrize("model, attempts, delays", [
    (zeebe("2"), 2, None),
    (zeebe("1"), 1, None),
    (camunda7("R3/PT10S"), 4, [10.0]),
    (camunda7("PT1S,PT1M"), 3, [1.0, 60.0]),
    (process(f'<zeebe:taskDefinition type="{SMS}" />{ZEEBE_INPUTS}'), 5, None),
    (process(spiff_operator(SMS, {"to": "'09121234567'", "text": "'hi'"},
                            retry='<spiffworkflow:retry retries="1" backoff_base="3" />')
             + f'<zeebe:taskDefinition type="{SMS}" retries="4" />'), 2, None),
], ids=["zeebe-2", "zeebe-1", "camunda7-cycle", "camunda7-list", "default", "spiff-wins"])
def test_the_model_says_how_many_attempts_a_failing_call_gets(
        client: TestClient, tokens: Tokens, runtime: Runtime, sends: tuple[str, list[str]], model: bytes,
        attempts: int, delays: list[float] | None) -> None:
    assert deploy(client, tokens, model).status_code == 201
    call = case(runtime, start(client, tokens, "notify", {})).call
    assert (call.max_attempts, call.retry_delays) == (attempts, delays)

    assert attempts_until_incident(runtime, call.id) == attempts

    assert len(sends[1]) == attempts and set(sends[1]) == {f"panjereh-{call.id}"}
    found = case(runtime, call.instance_id)
    assert [i.kind for i in found.incidents] == ["retries-exhausted"]


def test_a_fixed_retry_cycle_waits_what_it_says(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    assert deploy(client, tokens, camunda7("PT10S,PT1M")).status_code == 201
    before = utcnow()
    call = case(runtime, start(client, tokens, "notify", {})).call
    after = utcnow()
    assert call.next_attempt_at is not None
    assert before + timedelta(seconds=10) <= call.next_attempt_at <= after + timedelta(seconds=11)

    with runtime.unit_of_work() as session:
        session.execute(update(ServiceCallRow).where(ServiceCallRow.id == call.id)
                        .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    before = utcnow()
    service_calls.run(runtime, runtime.connectors, call.id)
    after = utcnow()
    second = case_row(runtime, call.id).next_attempt_at
    assert second is not None and before + timedelta(seconds=60) <= second <= after + timedelta(seconds=66)


@pytest.mark.parametrize("model, words", [
    (zeebe("=retries"), "zeebe:taskDefinition retries '=retries' must be a whole number"),
    (zeebe("1000"), "at most 100"),
    (camunda7("R/PT10S"), "repeats without end"),
    (camunda7("R3/${wait}"), "an expression is not evaluated here"),
    (camunda7("R3/P1M"), "not an ISO 8601 duration in weeks, days, hours, minutes or seconds"),
    (camunda7("R3/PT0S"), "more than nothing"),
    (zeebe("1" + "0" * 5_000), "at most 100"),
    (zeebe("²"), "must be a whole number"),
    (camunda7("R" + "9" * 400 + "/PT10S"), "at most 99"),
    (process(spiff_operator(SMS, {"to": "'09121234567'", "text": "'hi'"},
                            retry='<spiffworkflow:retry retries="1" backoff_base="1' + "0" * 400 + '" />')),
     "backoff_base"),
    (process(spiff_operator(SMS, {"to": "'09121234567'", "text": "'hi'"},
                            retry='<spiffworkflow:retry retries="9' + "9" * 5_000 + '" />')), "at most 99"),
], ids=["zeebe-expression", "zeebe-too-many", "camunda-endless", "camunda-expression", "camunda-months",
        "camunda-zero", "zeebe-5000-digits", "zeebe-superscript-digit", "camunda-400-digits", "spiff-huge-base",
        "spiff-5000-digits"])
def test_a_retry_setting_that_cannot_be_honoured_is_refused_at_deploy(runtime: Runtime, model: bytes,
                                                                       words: str) -> None:
    _, report = check([UploadedFile("notify.bpmn", model)], runtime.settings, runtime.connectors)

    assert not report.deployable
    assert any(p.element_id == "send" and words in p.message for p in report.problems), report.problems


@pytest.mark.parametrize("attempt, base, delays, retry_after, low, high", [
    (1, 2.0, None, None, 1.0, 2.0),
    (3, 2.0, None, None, 4.0, 8.0),
    (40, 2.0, None, None, service_calls.MAX_BACKOFF_SECONDS / 2, service_calls.MAX_BACKOFF_SECONDS),
    (3, 2.0, None, 120.0, 120.0, 120.0),
    (1, 2.0, [10.0, 60.0], None, 10.0, 11.0),
    (2, 2.0, [10.0, 60.0], None, 60.0, 66.0),
    (7, 2.0, [10.0, 60.0], None, 60.0, 66.0),
    # A base and an attempt whose power is past what a float holds still wait the longest wait.
    (99, 3600.0, None, None, service_calls.MAX_BACKOFF_SECONDS / 2, service_calls.MAX_BACKOFF_SECONDS),
    (99, 1.0, None, None, 0.5, 1.0),
])
def test_retry_delay(attempt: int, base: float, delays: list[float] | None, retry_after: float | None,
                     low: float, high: float) -> None:
    for _ in range(50):
        assert low <= service_calls.retry_delay(attempt, base, delays, retry_after) <= high
