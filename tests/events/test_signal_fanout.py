"""A chain of signals that fans out is bounded in breadth as well as in depth.

Three processes that each start on signal `fan` and throw `fan` again reach 3**8 instances
at the depth limit; one such broadcast held the database's write lock for 14 minutes. Now the
instances that events thrown by instances reach in one transaction are counted: past
MAX_ROUTED_PER_CHANGE the change is refused (409) and nothing of it is saved.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.db.models import Instance
from engine.services.event_delivery import MAX_ROUTED_PER_CHANGE
from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.importer.bpmn_text import flow

SIGNAL = '<bpmn:signal id="fan_signal" name="fan" />'


def _fan_process(key: str) -> str:
    return (f'<bpmn:process id="{key}" isExecutable="true">'
            '<bpmn:startEvent id="s"><bpmn:signalEventDefinition signalRef="fan_signal" /></bpmn:startEvent>'
            '<bpmn:intermediateThrowEvent id="again"><bpmn:signalEventDefinition signalRef="fan_signal" />'
            "</bpmn:intermediateThrowEvent>"
            '<bpmn:endEvent id="e" />'
            f'{flow("f0", "s", "again")}{flow("f1", "again", "e")}</bpmn:process>')


def _document(keys: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="t">'
            + "".join(_fan_process(key) for key in keys) + SIGNAL + "</bpmn:definitions>").encode()


def _instances(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return int(session.execute(select(func.count()).select_from(Instance)).scalar_one())


def test_a_signal_that_sets_off_a_growing_chain_is_refused_and_nothing_is_saved(
        client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    deployed = client.post("/api/v1/deployments", files=[("files", ("fan.bpmn", _document(["fan0", "fan1", "fan2"]),
                                                                     "application/xml"))],
                           headers=tokens.headers("analyst"))
    assert deployed.status_code == 201, deployed.text
    response = client.post("/api/v1/signals", json={"name": "fan", "payload": {}}, headers=tokens.headers("admin"))
    assert response.status_code == 409, response.text
    assert f"more than {MAX_ROUTED_PER_CHANGE} instances" in response.json()["detail"]
    assert _instances(runtime) == 0


def test_a_chain_within_the_bound_runs_to_its_end(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    deployed = client.post("/api/v1/deployments", files=[("files", ("fan.bpmn", _document(["fan0"]),
                                                                     "application/xml"))],
                           headers=tokens.headers("analyst"))
    assert deployed.status_code == 201, deployed.text
    response = client.post("/api/v1/signals", json={"name": "fan", "payload": {}}, headers=tokens.headers("admin"))
    assert response.status_code == 200, response.text
    # One process re-starting itself: one instance per level of the depth limit.
    assert 1 < _instances(runtime) < MAX_ROUTED_PER_CHANGE
