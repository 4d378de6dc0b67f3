"""Where the services set a status, a move the transition table does not allow is not made."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import Incident, Instance
from engine.services.errors import ModelStopped
from engine.services.instance_store import mark_stopped
from engine.services.runtime import Runtime
from tests.fixtures import Tokens
from tests.importer.bpmn_text import flow, model, script

QUICK = model("\n".join([
    '<bpmn:startEvent id="s" />', script("add", "total = 2 + 2"), '<bpmn:endEvent id="e" />',
    flow("f0", "s", "add"), flow("f1", "add", "e"),
]), key="quick")


def test_a_stop_recorded_after_its_instance_ended_leaves_it_as_it_ended(
        client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    """A change stopped in its worker fails its instance, unless another change ended the
    instance meanwhile: a completed case is not turned into a failed one."""
    assert client.post("/api/v1/deployments", files=[("files", ("quick.bpmn", QUICK, "application/xml"))],
                       headers=tokens.headers("analyst")).status_code == 201
    started = client.post("/api/v1/processes/quick/instances", json={"data": {}}, headers=tokens.headers("analyst"))
    assert started.json()["status"] == "completed"
    with runtime.unit_of_work() as session:
        mark_stopped(session, ModelStopped("the model's code was stopped", started.json()["id"]))
    with runtime.reading() as session:
        instance = session.get(Instance, started.json()["id"])
        assert instance is not None and (instance.status, instance.error) == ("completed", None)
        assert session.execute(select(Incident)).scalars().all() == []
