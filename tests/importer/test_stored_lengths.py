"""A model whose ids and names do not fit where the engine stores them is refused at deploy,
naming the element and its line, on SQLite and PostgreSQL alike (SQLite keeps any length, so
only PostgreSQL would otherwise fail, and only later, at start or at the step that stores the
value). Display names are shortened where stored instead, and the model runs.

The limits are those of `engine.db.limits`, which reads them from the columns; each kind is
tried just at its limit (deploys, starts, runs) and one character past it (refused).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db import limits
from engine.db.models import DataUse, Deployment, HumanTaskRow, ProcessDefinition, ServiceCallRow
from engine.services.deployments import UploadedFile, check
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import Tokens

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
        'targetNamespace="https://panjereh.example/tests">\n')


def _model(key: str = "sized", task: str = "review", task_name: str = "Review", lane: str | None = None,
           message: str | None = None, signal: str | None = None, operation: str | None = None,
           call_name: str = "Ask", process_name: str = "Sized") -> bytes:
    """One process: start, a user task (in a lane), then a catch event or a service task, then end."""
    events = ""
    if message is not None:
        events = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming>'
                  '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:messageEventDefinition messageRef="m"/>'
                  "</bpmn:intermediateCatchEvent>")
    elif signal is not None:
        events = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming>'
                  '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:signalEventDefinition signalRef="s"/>'
                  "</bpmn:intermediateCatchEvent>")
    elif operation is not None:
        events = (f'<bpmn:serviceTask id="wait" name="{call_name}"><bpmn:extensionElements>'
                  f'<spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="answer"/>'
                  "</bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
                  "</bpmn:serviceTask>")
    else:
        events = ('<bpmn:manualTask id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
                  "</bpmn:manualTask>")
    lanes = (f'<bpmn:laneSet id="lanes"><bpmn:lane id="the_lane" name="{lane}">'
             f"<bpmn:flowNodeRef>{task}</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>") if lane is not None else ""
    return (HEAD
            + (f'<bpmn:message id="m" name="{message}"/>' if message is not None else "")
            + (f'<bpmn:signal id="s" name="{signal}"/>' if signal is not None else "")
            + f'<bpmn:process id="{key}" name="{process_name}" isExecutable="true">{lanes}\n'
            + '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>\n'
            + f'<bpmn:userTask id="{task}" name="{task_name}"><bpmn:incoming>f0</bpmn:incoming>'
            + "<bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>\n"
            + events + '\n<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
            + f'<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="{task}"/>'
            + f'<bpmn:sequenceFlow id="f1" sourceRef="{task}" targetRef="wait"/>'
            + '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>'
            + "</bpmn:process></bpmn:definitions>\n").encode()


def _deploy(client: TestClient, tokens: Tokens, model: bytes) -> Any:
    return client.post("/api/v1/deployments", files=[("files", ("sized.bpmn", model, "text/xml"))],
                       headers=tokens.headers("analyst"))


def _id(length: int, first: str = "a") -> str:
    return first + "x" * (length - 1)


def _name(length: int) -> str:
    # Persian letters and spaces: names are what people read, in the language they write.
    return ("نام " * length)[:length]


MANUAL = "manual/"
# Each kind: the model at the limit, the model one past it, and the element the refusal names.
KINDS = {
    "process id": (lambda n: _model(key=_id(n)), limits.PROCESS_ID.length, lambda n: _id(n)),
    "element id": (lambda n: _model(task=_id(n, "t")), limits.ELEMENT_ID.length, lambda n: _id(n, "t")),
    "lane name": (lambda n: _model(lane="l" * n), limits.AGENCY.length, lambda _: "review"),
    "message name": (lambda n: _model(message=_name(n)), limits.MESSAGE_NAME.length, lambda _: "wait"),
    "signal name": (lambda n: _model(signal=_name(n)), limits.SIGNAL_NAME.length, lambda _: "wait"),
    "operation": (lambda n: _model(operation=MANUAL + "o" * (n - len(MANUAL))), limits.OPERATION.length,
                  lambda _: "wait"),
}
LINES = {"process id": 3, "element id": 5, "lane name": 5, "message name": 6, "signal name": 6, "operation": 6}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_stored_id_and_name_deploys_at_its_limit_and_is_refused_past_it(
        client: TestClient, tokens: Tokens, kind: str) -> None:
    build, limit, element = KINDS[kind]
    refused = _deploy(client, tokens, build(limit + 1))
    assert refused.status_code == 422, (kind, refused.status_code, refused.text[:300])
    errors = [p for p in refused.json()["report"]["problems"] if p["severity"] == "error"]
    assert [(p["element_id"], p["line"]) for p in errors] == [(element(limit + 1), LINES[kind])], errors
    assert f"at most {limit:,}" in errors[0]["message"] and len(errors[0]["message"]) < 600, errors

    deployed = _deploy(client, tokens, build(limit))
    assert deployed.status_code == 201, (kind, deployed.text[:300])
    [process] = deployed.json()["processes"]
    started = client.post(f"/api/v1/processes/{process['key']}/instances", json={"data": {}},
                          headers=tokens.headers("analyst"))
    assert started.status_code == 201, (kind, started.text[:300])
    tasks = client.get("/api/v1/tasks", params={"instance_id": started.json()["id"]},
                       headers=tokens.headers("admin")).json()
    [task] = tasks
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=tokens.headers("admin"))
    assert done.status_code == 200, (kind, done.text[:300])


def test_a_lane_mapped_to_a_short_agency_deploys_up_to_the_lanes_own_limit(settings: Settings) -> None:
    for length, deployable in ((limits.AGENCY.length + 50, True), (limits.LANE.length, True),
                               (limits.LANE.length + 1, False)):
        lane = "l" * length
        files = [UploadedFile("sized.bpmn", _model(lane=lane))]
        assert not check(files, settings)[1].deployable, "unmapped, the lane's name is its agency code"
        mapped = check(files, settings, service={"lanes": {lane: "municipality"}})[1]
        assert mapped.deployable is deployable, [str(p) for p in mapped.problems]
        too_long = check(files, settings, service={"lanes": {lane: "m" * (limits.AGENCY.length + 1)}})[1]
        assert "review" in [p.element_id for p in too_long.problems if p.severity == "error"]


def test_a_connector_id_past_its_limit_is_refused(settings: Settings) -> None:
    connector = "c" * (limits.CONNECTOR.length + 1)
    report = check([UploadedFile("sized.bpmn", _model(operation=f"{connector}/fetch"))], settings)[1]
    errors = [p for p in report.problems if p.severity == "error"]
    assert [(p.element_id, p.line) for p in errors] == [("wait", 6)] and "connector id" in errors[0].message


def test_display_names_are_shortened_where_stored(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    long_task, long_call, long_process = _name(2_000), _name(1_000), _name(1_000)
    model = _model(task_name=long_task, operation=MANUAL + "fetch", call_name=long_call, process_name=long_process)
    deployed = _deploy(client, tokens, model)
    assert deployed.status_code == 201, deployed.text[:300]
    started = client.post("/api/v1/processes/sized/instances", json={"data": {}}, headers=tokens.headers("analyst"))
    assert started.status_code == 201, started.text[:300]
    [task] = client.get("/api/v1/tasks", params={"instance_id": started.json()["id"]},
                        headers=tokens.headers("admin")).json()
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}},
                       headers=tokens.headers("admin")).status_code == 200
    with runtime.reading() as session:
        title = session.execute(select(HumanTaskRow.title)).scalar_one()
        call = session.execute(select(ServiceCallRow.name)).scalar_one()
        process = session.execute(select(ProcessDefinition.name)).scalar_one()
    for stored, full, kind in ((title, long_task, limits.TASK_TITLE), (call, long_call, limits.CALL_NAME),
                               (process, long_process, limits.PROCESS_NAME)):
        assert len(stored) == kind.length and stored.endswith("…") and full.startswith(stored[:-1])


def test_file_names_that_cannot_be_stored_are_in_the_report(settings: Settings) -> None:
    model = _model()
    for name in ("f" * limits.FILE_NAME.length + ".bpmn", "tab\there.bpmn", "nul\x00.bpmn", "half\ud800.bpmn"):
        report = check([UploadedFile(name, model)], settings)[1]
        assert not report.deployable, name[:20]
        [problem] = report.problems
        assert "\x00" not in problem.file and "\t" not in problem.file
        problem.file.encode("utf-8")
    assert check([UploadedFile("f" * (limits.FILE_NAME.length - 5) + ".bpmn", model)], settings)[1].deployable


def test_a_long_deployment_name_is_shortened(client: TestClient, runtime: Runtime) -> None:
    from engine.services.deployments import deploy

    with runtime.unit_of_work() as session:
        deploy(session, runtime, [UploadedFile("sized.bpmn", _model())], "cli", name=_name(500))
    with runtime.reading() as session:
        name = session.execute(select(Deployment.name)).scalar_one()
        assert len(name) == limits.DEPLOYMENT_NAME.length and name.endswith("…")
        assert session.execute(select(DataUse)).first() is None
