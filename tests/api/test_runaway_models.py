"""A model that never comes to rest fails its instance instead of holding the server.

Before the change budget, a gateway loop whose condition never turned false ran inside the
request for ever (memory growing with every round), and a multi-instance activity with a
cardinality of 50,000 built every instance in one step. Now one change runs at most
`max_steps_per_change` automatic steps (and `max_change_seconds`); past that the instance
fails with an error naming the task and the limit, its state is whole and readable, and
the request is answered. The limit is small here so the tests stay quick.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import AuditEvent, Incident
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.fixtures import Tokens
from tests.importer.bpmn_text import flow, model, script

LIMIT = 300

LOOP = model("\n".join([
    '<bpmn:startEvent id="s" />',
    '<bpmn:userTask id="ask" name="Say how many rounds" />',
    script("init", "counter = 0"),
    '<bpmn:exclusiveGateway id="merge" />',
    script("inc", "counter = counter + 1"),
    '<bpmn:exclusiveGateway id="more" default="done" />',
    '<bpmn:endEvent id="e" />',
    flow("f0", "s", "ask"), flow("f1", "ask", "init"), flow("f2", "init", "merge"), flow("f3", "merge", "inc"),
    flow("f4", "inc", "more"), flow("again", "more", "merge", "counter < rounds"), flow("done", "more", "e"),
]), key="loop")


def _multi_instance(key: str, characteristics: str) -> bytes:
    return model("\n".join([
        '<bpmn:startEvent id="s" />',
        f'<bpmn:scriptTask id="each" name="Check each" scriptFormat="python">{characteristics}'
        "<bpmn:script>seen = 1</bpmn:script></bpmn:scriptTask>",
        '<bpmn:endEvent id="e" />',
        flow("f0", "s", "each"), flow("f1", "each", "e"),
    ]), key=key)


CARDINALITY = _multi_instance(
    "by_count", "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>n</bpmn:loopCardinality>"
                "</bpmn:multiInstanceLoopCharacteristics>")
COLLECTION = _multi_instance(
    "by_items", "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>"
                '<bpmn:inputDataItem id="item" name="item" /></bpmn:multiInstanceLoopCharacteristics>')
IN_TURN = _multi_instance(
    "in_turn", '<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
               "<bpmn:loopCardinality>n</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_steps_per_change": LIMIT})


def _deploy(client: TestClient, tokens: Tokens, name: str, document: bytes) -> None:
    response = client.post("/api/v1/deployments", files=[("files", (name, document, "application/xml"))],
                           headers=tokens.headers("analyst"))
    assert response.status_code == 201, response.text


def _start(client: TestClient, tokens: Tokens, key: str, data: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1/processes/{key}/instances", json={"data": data},
                           headers=tokens.headers("analyst"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _answer_rounds(client: TestClient, tokens: Tokens, rounds: int) -> dict[str, Any]:
    instance = _start(client, tokens, "loop", {})
    tasks = client.get("/api/v1/tasks", params={"instance_id": instance["id"], "status": "ready"},
                       headers=tokens.headers("analyst")).json()
    [ask] = tasks
    response = client.post(f"/api/v1/tasks/{ask['id']}/complete", json={"data": {"rounds": rounds}},
                           headers=tokens.headers("analyst"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_loop_that_never_ends_fails_its_instance_and_keeps_the_answer(client: TestClient, tokens: Tokens,
                                                                        runtime: Runtime) -> None:
    _deploy(client, tokens, "loop.bpmn", LOOP)
    runaway = _answer_rounds(client, tokens, 10**9)
    assert runaway["status"] == "failed"
    assert "task 'inc'" in runaway["error"] or "task 'more'" in runaway["error"] or "task 'merge'" in runaway["error"]
    assert f"{LIMIT:,} steps (PANJEREH_MAX_STEPS_PER_CHANGE)" in runaway["error"], runaway["error"]
    # What the person answered is kept with the failed instance, which still reads.
    assert runaway["data"]["rounds"] == 10**9
    assert 0 < runaway["data"]["counter"] < LIMIT
    again = client.get(f"/api/v1/instances/{runaway['id']}", headers=tokens.headers("analyst"))
    assert again.status_code == 200 and again.json()["status"] == "failed"
    with runtime.reading() as session:
        actions = session.execute(select(AuditEvent.action).where(AuditEvent.instance_id == runaway["id"])).scalars()
        assert "instance.failed" in set(actions)
    verified = client.get("/api/v1/audit/verify", headers=tokens.headers("admin"))
    assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text
    # A loop that ends within the budget is untouched by it.
    bounded = _answer_rounds(client, tokens, 50)
    assert bounded["status"] == "completed" and bounded["data"]["counter"] == 50


def test_a_multi_instance_over_the_budget_fails_before_it_creates_any(client: TestClient, tokens: Tokens) -> None:
    _deploy(client, tokens, "by_count.bpmn", CARDINALITY)
    _deploy(client, tokens, "by_items.bpmn", COLLECTION)
    _deploy(client, tokens, "in_turn.bpmn", IN_TURN)
    for key, data in (("by_count", {"n": 50_000}), ("by_items", {"items": list(range(LIMIT + 1))}),
                      ("in_turn", {"n": 10**9})):
        failed = _start(client, tokens, key, data)
        assert failed["status"] == "failed", failed
        assert "task 'each'" in failed["error"]
        assert f"over the limit of {LIMIT:,}" in failed["error"], failed["error"]
        read = client.get(f"/api/v1/instances/{failed['id']}", headers=tokens.headers("analyst")).json()
        assert read["status"] == "failed" and "seen" not in read["data"]
    for key, data in (("by_count", {"n": 20}), ("by_items", {"items": list(range(20))}), ("in_turn", {"n": 20})):
        assert _start(client, tokens, key, data)["status"] == "completed"


NESTED = model("\n".join([
    '<bpmn:startEvent id="s" />',
    '<bpmn:userTask id="ask" name="How many" />',
    '<bpmn:subProcess id="each_office" name="Each office">'
    "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>n</bpmn:loopCardinality>"
    "</bpmn:multiInstanceLoopCharacteristics>"
    '<bpmn:startEvent id="in" />'
    '<bpmn:userTask id="sign" name="Sign"><bpmn:multiInstanceLoopCharacteristics>'
    "<bpmn:loopCardinality>n</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
    '<bpmn:endEvent id="out" />' + flow("g0", "in", "sign") + flow("g1", "sign", "out") + "</bpmn:subProcess>",
    '<bpmn:endEvent id="e" />',
    flow("f0", "s", "ask"), flow("f1", "ask", "each_office"), flow("f2", "each_office", "e"),
]), key="nested")


def test_a_multi_instance_inside_a_multi_instance_is_stopped_as_it_grows(client: TestClient, tokens: Tokens,
                                                                        runtime: Runtime) -> None:
    """Each activity stays under the limit (30 of 300) but together they would make 900 tasks:
    the change stops as they are made, and nothing of it is kept."""
    _deploy(client, tokens, "nested.bpmn", NESTED)
    instance = _start(client, tokens, "nested", {})
    [ask] = client.get("/api/v1/tasks", params={"instance_id": instance["id"], "status": "ready"},
                       headers=tokens.headers("analyst")).json()
    response = client.post(f"/api/v1/tasks/{ask['id']}/complete", json={"data": {"n": 30}},
                           headers=tokens.headers("analyst"))
    assert response.status_code == 422, response.text
    assert f"more than {2 * LIMIT:,} tasks" in response.json()["detail"]
    read = client.get(f"/api/v1/instances/{instance['id']}", headers=tokens.headers("analyst")).json()
    assert read["status"] == "failed" and "n" not in read["data"]
    still = client.get("/api/v1/tasks", params={"instance_id": instance["id"], "status": "ready"},
                       headers=tokens.headers("analyst")).json()
    assert [t["id"] for t in still] == [ask["id"]], "the state is as it was before the change"
    with runtime.reading() as session:
        kinds = session.execute(select(Incident.kind).where(Incident.instance_id == instance["id"])).scalars()
        assert list(kinds) == ["model-stopped"]
    # A small one runs: 3 offices of 3 signatures.
    small = _start(client, tokens, "nested", {})
    [ask] = client.get("/api/v1/tasks", params={"instance_id": small["id"], "status": "ready"},
                       headers=tokens.headers("analyst")).json()
    done = client.post(f"/api/v1/tasks/{ask['id']}/complete", json={"data": {"n": 3}},
                       headers=tokens.headers("analyst"))
    assert done.status_code == 200 and done.json()["status"] == "waiting", done.text
