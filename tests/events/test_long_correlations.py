"""A correlation is computed from process data or sent by another system, so it has no natural
length: one of 10,000 characters (or of any text) waits, is delivered, is buffered and is taken
like a short one, on SQLite and PostgreSQL, and no other value reaches what it waits for."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import MessageBufferRow, MessageWaitRow
from engine.services.runtime import Runtime
from tests.events.helpers import deploy, instance, message, start
from tests.fixtures import Tokens

LONG = "سفارش-" + "x" * 9_994
WIDE = "\U0001f4e6" * 400  # 400 characters, 1,600 bytes of UTF-8


def _stored(runtime: Runtime, table: type[MessageWaitRow] | type[MessageBufferRow]) -> list[str | None]:
    with runtime.reading() as session:
        return list(session.execute(select(table.correlation)).scalars())


def test_a_10000_character_correlation_waits_and_is_delivered(client: TestClient, tokens: Tokens,
                                                               runtime: Runtime) -> None:
    assert len(LONG) == 10_000
    deploy(client, tokens, "messages.bpmn")
    waiting = {value: start(client, tokens, "await_payment", {"order_id": value})
               for value in (LONG, LONG[:-1] + "y", WIDE, "short")}
    stored = _stored(runtime, MessageWaitRow)
    assert "short" in stored and all(len(value or "") <= 500 for value in stored), stored

    # The digest a long value is kept under is not itself a way in.
    [kept] = [value for value in stored if value and value.startswith("sha256:")][:1]
    assert message(client, tokens, "payment_received", kept, {"amount": 1})["outcome"] == "buffered"
    for value in (LONG, WIDE):
        outcome = message(client, tokens, "payment_received", value, {"order_id": value, "amount": 70})
        assert outcome == {"outcome": "delivered", "instances": [waiting[value]], "buffer_id": None}
        done = instance(client, tokens, waiting[value])
        assert done["status"] == "completed" and done["data"]["settled"] == 70
    assert instance(client, tokens, waiting[LONG[:-1] + "y"])["status"] == "waiting"
    assert instance(client, tokens, waiting["short"])["status"] == "waiting"


def test_a_long_correlation_sent_early_is_buffered_and_taken(client: TestClient, tokens: Tokens,
                                                             runtime: Runtime) -> None:
    deploy(client, tokens, "messages.bpmn")
    case = start(client, tokens, "late_catch", {"case_no": LONG})
    other = start(client, tokens, "late_catch", {"case_no": LONG[:-1]})
    early = message(client, tokens, "documents_ready", LONG, {"pages": 4})
    assert early["outcome"] == "buffered"
    assert all(len(value or "") <= 500 for value in _stored(runtime, MessageBufferRow))

    for instance_id in (case, other):
        [task] = [t for t in instance(client, tokens, instance_id)["tasks"] if t["status"] == "ready"]
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}},
                           headers=tokens.headers("analyst"))
        assert done.status_code == 200, done.text
    taken = instance(client, tokens, case)
    assert taken["status"] == "completed" and taken["data"]["documents"] == {"pages": 4}
    assert instance(client, tokens, other)["status"] == "waiting"


def test_a_long_correlation_thrown_by_one_instance_reaches_another(client: TestClient, tokens: Tokens) -> None:
    deploy(client, tokens, "messages.bpmn")
    waiting = start(client, tokens, "await_payment", {"order_id": LONG})
    start(client, tokens, "pay_order", {"order_id": LONG, "amount": 35})
    paid = instance(client, tokens, waiting)
    assert paid["status"] == "completed" and paid["data"]["settled"] == 35
