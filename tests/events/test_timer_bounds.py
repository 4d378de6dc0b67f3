"""A timer start event that repeats more times than the database counts is set aside with its
reason, and the rest goes on: the tick runs, messages are delivered, other timers fire."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import StartTriggerRow
from engine.services.runtime import Runtime
from tests.events.helpers import deploy, message, tick
from tests.fixtures import Tokens

ENDLESS = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="ticking" isExecutable="true">
<bpmn:startEvent id="every_minute"><bpmn:outgoing>f</bpmn:outgoing>
<bpmn:timerEventDefinition><bpmn:timeCycle>"R99999999999/PT1M"</bpmn:timeCycle></bpmn:timerEventDefinition>
</bpmn:startEvent>
<bpmn:endEvent id="e"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f" sourceRef="every_minute" targetRef="e"/></bpmn:process></bpmn:definitions>'''


def test_a_cycle_count_past_the_databases_range_is_set_aside(client: TestClient, tokens: Tokens,
                                                              runtime: Runtime) -> None:
    assert client.post("/api/v1/deployments", files=[("files", ("ticking.bpmn", ENDLESS, "text/xml"))],
                       headers=tokens.headers("analyst")).status_code == 201
    deploy(client, tokens, "messages.bpmn")
    assert tick(runtime, minutes=5).started == []
    with runtime.reading() as session:
        trigger = session.execute(select(StartTriggerRow).where(StartTriggerRow.process_key == "ticking")
                                  ).scalar_one()
    assert not trigger.active and "99,999,999,999 times; at most 2,147,483,647" in (trigger.last_error or "")
    started = message(client, tokens, "new_order", None, {"item": "permit"})
    assert started["outcome"] == "started"
