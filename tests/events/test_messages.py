"""Messages through POST /api/v1/messages, at the service level: each delivery restores the
receiving instance from the database, so its state has been serialized and read back."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import MessageBufferRow, MessageWaitRow
from engine.services.runtime import Runtime
from tests.events.helpers import audit_actions, deploy, instance, message, start
from tests.fixtures import Tokens


def _ready(client: TestClient, tokens: Tokens, instance_id: str) -> list[dict]:
    return [t for t in instance(client, tokens, instance_id)["tasks"] if t["status"] == "ready"]


def test_message_reaches_only_the_instance_it_correlates_with(client: TestClient, tokens: Tokens,
                                                              runtime: Runtime) -> None:
    deploy(client, tokens, "messages.bpmn")
    waiting = {order: start(client, tokens, "await_payment", {"order_id": order}) for order in ("A1", "A2", "A3")}
    with runtime.reading() as session:
        rows = session.execute(select(MessageWaitRow.name, MessageWaitRow.correlation, MessageWaitRow.instance_id)
                               .order_by(MessageWaitRow.correlation)).all()
    assert [tuple(r) for r in rows] == [("payment_received", o, waiting[o]) for o in ("A1", "A2", "A3")]

    outcome = message(client, tokens, "payment_received", "A2", {"order_id": "A2", "amount": 120})
    assert outcome == {"outcome": "delivered", "instances": [waiting["A2"]], "buffer_id": None}
    paid = instance(client, tokens, waiting["A2"])
    assert paid["status"] == "completed"
    assert paid["data"]["payment"] == {"order_id": "A2", "amount": 120} and paid["data"]["settled"] == 120
    assert ("message.delivered", "paid") in audit_actions(runtime, waiting["A2"])
    for order in ("A1", "A3"):
        assert instance(client, tokens, waiting[order])["status"] == "waiting"

    # A2 waits no more, so the same message again is kept for later rather than delivered.
    again = message(client, tokens, "payment_received", "A2", {"order_id": "A2", "amount": 1})
    assert again["outcome"] == "buffered" and again["instances"] == []
    assert instance(client, tokens, waiting["A1"])["status"] == "waiting"


def test_messages_are_for_staff_and_admins(client: TestClient, tokens: Tokens) -> None:
    body = {"name": "nobody_waits", "correlation": None, "payload": {}}
    assert client.post("/api/v1/messages", json=body, headers=tokens.headers("citizen")).status_code == 403
    assert client.post("/api/v1/messages", json=body, headers=tokens.headers("analyst")).status_code == 403
    staff = client.post("/api/v1/messages", json=body, headers=tokens.headers("staff_guild"))
    assert staff.status_code == 200 and staff.json()["outcome"] == "buffered"
    assert client.post("/api/v1/messages", json={"correlation": "x"},
                       headers=tokens.headers("admin")).status_code == 422


def test_message_start_event_starts_the_newest_version(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "messages.bpmn")
    outcome = message(client, tokens, "new_order", None, {"item": "permit", "count": 2})
    assert outcome["outcome"] == "started"
    [started] = outcome["instances"]
    view = instance(client, tokens, started)
    assert view["process_key"] == "order_intake" and view["status"] == "waiting"
    assert view["data"]["order"] == {"item": "permit", "count": 2}
    assert view["data"]["item"] == "permit"
    assert [t["name"] for t in _ready(client, tokens, started)] == ["handle_order"]


def test_early_message_is_buffered_then_taken_when_the_instance_reaches_its_catch(
        client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    deploy(client, tokens, "messages.bpmn")
    instance_id = start(client, tokens, "late_catch", {"case_no": "C-7"})
    other = start(client, tokens, "late_catch", {"case_no": "C-8"})
    early = message(client, tokens, "documents_ready", "C-7", {"pages": 3})
    assert early["outcome"] == "buffered" and early["buffer_id"]

    [task] = _ready(client, tokens, instance_id)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}},
                           headers=tokens.headers("analyst"))
    assert response.status_code == 200, response.text
    done = instance(client, tokens, instance_id)
    assert done["status"] == "completed" and done["data"]["documents"] == {"pages": 3}
    with runtime.reading() as session:
        row = session.get(MessageBufferRow, early["buffer_id"])
        assert row is not None and row.consumed_by == instance_id and row.consumed_at is not None
    assert ("message.delivered", "docs_in") in audit_actions(runtime, instance_id)

    # The other case correlates on C-8: the consumed C-7 message is not for it.
    [task] = _ready(client, tokens, other)
    client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=tokens.headers("analyst"))
    assert instance(client, tokens, other)["status"] == "waiting"


def test_expired_buffered_message_is_not_delivered(client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    deploy(client, tokens, "messages.bpmn")
    instance_id = start(client, tokens, "late_catch", {"case_no": "C-9"})
    early = message(client, tokens, "documents_ready", "C-9", {"pages": 1}, ttl_seconds=60)
    with runtime.unit_of_work() as session:
        row = session.get(MessageBufferRow, early["buffer_id"])
        assert row is not None
        assert timedelta(seconds=59) < row.expires_at - row.created_at <= timedelta(seconds=60)
        # Time passing: the minute is over.
        row.expires_at = row.created_at - timedelta(seconds=1)

    [task] = _ready(client, tokens, instance_id)
    client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=tokens.headers("analyst"))
    assert instance(client, tokens, instance_id)["status"] == "waiting"
    with runtime.reading() as session:
        assert session.execute(select(MessageWaitRow.correlation).where(
            MessageWaitRow.instance_id == instance_id)).scalar_one() == "C-9"

    fresh = message(client, tokens, "documents_ready", "C-9", {"pages": 2})
    assert fresh == {"outcome": "delivered", "instances": [instance_id], "buffer_id": None}
    assert instance(client, tokens, instance_id)["data"]["documents"] == {"pages": 2}


def test_message_thrown_by_one_instance_reaches_the_one_waiting(client: TestClient, tokens: Tokens,
                                                                runtime: Runtime) -> None:
    deploy(client, tokens, "messages.bpmn")
    receiver = start(client, tokens, "await_payment", {"order_id": "B5"})
    bystander = start(client, tokens, "await_payment", {"order_id": "B6"})
    payer = start(client, tokens, "pay_order", {"order_id": "B5", "amount": 40})
    assert instance(client, tokens, payer)["status"] == "completed"
    done = instance(client, tokens, receiver)
    assert done["status"] == "completed" and done["data"]["settled"] == 40
    assert instance(client, tokens, bystander)["status"] == "waiting"
    assert ("message.delivered", "paid") in audit_actions(runtime, receiver)
