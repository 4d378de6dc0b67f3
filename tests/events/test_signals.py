"""Signals: broadcast through POST /api/v1/signals and thrown by instances. Service level:
every receiver is restored from its saved state."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import Instance
from engine.services.runtime import Runtime
from tests.events.helpers import audit_actions, deploy, instance, start
from tests.fixtures import Tokens


def _started(runtime: Runtime, key: str) -> list[str]:
    with runtime.reading() as session:
        return list(session.execute(select(Instance.id).where(Instance.process_key == key)).scalars())


def test_signal_reaches_every_waiting_instance_and_starts_its_start_events(client: TestClient, tokens: Tokens,
                                                                          runtime: Runtime) -> None:
    deploy(client, tokens, "signals.bpmn")
    waiting = sorted(start(client, tokens, "await_recall") for _ in range(3))
    response = client.post("/api/v1/signals", json={"name": "product_recall", "payload": {"product": "heater"}},
                           headers=tokens.headers("staff_municipality"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(body["instances"]) == waiting
    assert len(body["started"]) == 1 and body["started"] == _started(runtime, "recall_notice")
    for instance_id in waiting:
        done = instance(client, tokens, instance_id)
        assert done["status"] == "completed" and done["data"]["recall"] == {"product": "heater"}
        assert ("signal.delivered", "product_recall") in audit_actions(runtime, instance_id)
    notice = instance(client, tokens, body["started"][0])
    assert notice["data"]["recall"] == {"product": "heater"}
    assert [t["name"] for t in notice["tasks"] if t["status"] == "ready"] == ["notify_buyers"]

    # Nobody waits any more: a second signal only starts another notice.
    again = client.post("/api/v1/signals", json={"name": "product_recall", "payload": {"product": "kettle"}},
                        headers=tokens.headers("admin")).json()
    assert again["instances"] == [] and len(again["started"]) == 1
    assert client.post("/api/v1/signals", json={"name": "x", "payload": {}},
                       headers=tokens.headers("citizen")).status_code == 403


def test_signal_thrown_by_one_instance_reaches_the_others(client: TestClient, tokens: Tokens,
                                                          runtime: Runtime) -> None:
    deploy(client, tokens, "signals.bpmn")
    waiting = [start(client, tokens, "await_recall") for _ in range(2)]
    thrower = start(client, tokens, "announce_recall", {"product": "toaster"})
    assert instance(client, tokens, thrower)["status"] == "completed"
    for instance_id in waiting:
        done = instance(client, tokens, instance_id)
        assert done["status"] == "completed" and done["data"]["recall"] == {"product": "toaster"}
    [notice] = _started(runtime, "recall_notice")
    assert instance(client, tokens, notice)["data"]["recall"] == {"product": "toaster"}
