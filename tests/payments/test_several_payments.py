"""A case that asks for more than one payment (the building permit's two instalments, or a fee asked
again for another amount): each is asked by its own `payment/request` task, paid on the gateway's
page, verified once and delivered to the wait that asked for it; an earlier payment's token, brought
back or paid late, never pays a later request."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from engine.db.base import utcnow
from engine.db.models import AuditEvent, Notification
from engine.services.event_delivery import tick
from tests.payments.gateway import at_gateway, back_path, pending_payment
from tests.payments.server import Portal
from tests.web.journey import PDF, text

FIRST = SECOND = 48_000_000


def _ready(api: httpx.Client, case: str, name: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        tasks = api.get("/api/v1/tasks", params={"instance_id": case, "status": "ready"}).json()
        found = [t for t in tasks if t["name"] == name]
        if found:
            return dict(found[0])
        assert time.monotonic() < deadline, f"{name} is not ready: {tasks}"
        time.sleep(0.05)


def _complete(api: httpx.Client, case: str, name: str, data: dict[str, Any]) -> None:
    task = _ready(api, case, name)
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert done.status_code == 200, done.text


def _verified_events(portal: Portal, case: str) -> list[dict[str, Any]]:
    with portal.runtime.reading() as session:
        return [dict(e.detail) for e in session.execute(
            select(AuditEvent).where(AuditEvent.instance_id == case, AuditEvent.action == "payment.verified")
            .order_by(AuditEvent.id)).scalars()]


def _payments(portal: Portal, case: str) -> list[dict[str, Any]]:
    with portal.api() as api:
        return list(api.get(f"/api/v1/instances/{case}/payments").json()["payments"])


def test_two_instalments_are_each_verified_once_and_an_old_return_pays_nothing(portal: Portal) -> None:
    browser = portal.browser()  # signed in on the portal once, so the citizen is texted
    citizen, clerk = portal.api(), portal.api("staff_municipality")
    started = citizen.post("/api/v1/processes/building_permit/instances", json={"data": {}})
    assert started.status_code == 201, started.text
    case = str(started.json()["id"])
    plans = citizen.post("/api/v1/uploads", files={"file": ("plans.pdf", PDF, "application/pdf")}).json()
    _complete(citizen, case, "apply", {"floors": 4, "built_area_m2": 480, "designer_membership": "01-10-12345",
                                       "undertaking": True, "plans": plans["id"]})

    first = pending_payment(citizen, {}, case)
    assert first["amount_rial"] == FIRST
    # The case page says which instalment this is, as the bank's page does.
    assert "شرح پرداخت: عوارض پروانه ساختمانی، قسط اول" in text(browser.get(f"/cases/{case}").text)
    first_back = back_path(at_gateway(first["payment_url"]))
    assert "پرداخت شما انجام شد" in text(portal.browser().get(first_back).text)
    _complete(clerk, case, "plan_check", {"review_outcome": "approve"})
    _complete(clerk, case, "site_inspection", {"inspection_passed": True, "inspection_note": "ملک آماده ساخت است"})

    second = pending_payment(citizen, {}, case)
    assert second["token"] != first["token"] and second["amount_rial"] == SECOND
    assert second["attempt"] == first["attempt"] + 1
    # The case page lists the first instalment as paid and asks for the next payment.
    page = text(browser.get(f"/cases/{case}").text)
    assert "۴٬۸۰۰٬۰۰۰ تومان (۴۸٬۰۰۰٬۰۰۰ ریال) در" in page and "پرداخت شد" in page
    assert "پرداخت بعدی این درخواست: ۴٬۸۰۰٬۰۰۰ تومان (۴۸٬۰۰۰٬۰۰۰ ریال)" in page
    # The first payment's return, brought again while the case waits for the second, is answered
    # from its own record: the second stays unpaid and the case does not move.
    with httpx.Client(base_url=portal.url, timeout=60) as stranger:
        again = stranger.get(first_back)
    assert again.status_code == 200
    assert [p["status"] for p in _payments(portal, case)] == ["verified", "pending"]
    assert [e["token"] for e in _verified_events(portal, case)] == [first["token"]]
    with portal.api("admin") as admin:
        assert admin.get(f"/api/v1/instances/{case}").json()["status"] != "completed"

    second_back = back_path(at_gateway(second["payment_url"]))
    for _ in range(2):
        assert portal.browser().get(second_back).status_code == 200
    assert [p["status"] for p in _payments(portal, case)] == ["verified", "verified"]
    assert [e["token"] for e in _verified_events(portal, case)] == [first["token"], second["token"]]
    with portal.api("admin") as admin:
        final = admin.get(f"/api/v1/instances/{case}").json()
        issued = admin.get(f"/api/v1/instances/{case}/documents").json()
    assert final["status"] == "completed", final.get("error")
    assert final["data"]["first_payment"]["token"] == first["token"]
    assert final["data"]["second_payment"]["token"] == second["token"]
    assert [d["kind"] for d in issued] == ["building_permit"]
    assert text(browser.get(f"/cases/{case}").text).count("پرداخت شد.") == 2
    # Texted once when it was sent (paying is the citizen's own doing: no news), once per fee
    # asked (the second instalment is news), and once decided.
    with portal.runtime.reading() as session:
        told = [(n.status, n.key.split(":", 2)[2]) for n in session.execute(
            select(Notification).where(Notification.instance_id == case).order_by(Notification.id)).scalars()]
    assert told == [("in_progress", ""), ("waiting_for_you", "payment-1"), ("waiting_for_you", "payment-2"),
                    ("approved", "")]


# A case that asks for its fee, and after a day without payment asks again for another amount
# (a late fee, say) while the first token is still payable at the bank.
ASKED_AGAIN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="asked_again_defs" targetNamespace="https://panjereh.example/tests">
  <bpmn:process id="asked_again" name="Asked again" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="ask" name="Ask the fee">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="payment/request" resultVariable="asked">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="amount_rial" type="int" value="10000" />
            <spiffworkflow:parameter id="description" type="str" value="&quot;fee&quot;" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:receiveTask id="wait" name="Pay the fee" messageRef="paid">
      <bpmn:extensionElements><spiffworkflow:messageVariable>fee</spiffworkflow:messageVariable></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:receiveTask>
    <bpmn:boundaryEvent id="late" attachedToRef="wait">
      <bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:timerEventDefinition id="late_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P1D"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:serviceTask id="ask_again" name="Ask the fee with the late fee">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="payment/request" resultVariable="asked_again">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="amount_rial" type="int" value="20000" />
            <spiffworkflow:parameter id="description" type="str" value="&quot;fee and late fee&quot;" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:receiveTask id="wait_again" name="Pay the fee and the late fee" messageRef="paid">
      <bpmn:extensionElements><spiffworkflow:messageVariable>late_fee</spiffworkflow:messageVariable></bpmn:extensionElements>
      <bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:receiveTask>
    <bpmn:endEvent id="end_on_time"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_late"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask" />
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="wait" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end_on_time" />
    <bpmn:sequenceFlow id="f4" sourceRef="late" targetRef="ask_again" />
    <bpmn:sequenceFlow id="f5" sourceRef="ask_again" targetRef="wait_again" />
    <bpmn:sequenceFlow id="f6" sourceRef="wait_again" targetRef="end_late" />
  </bpmn:process>
  <bpmn:message id="paid" name="payment_verified" />
</bpmn:definitions>
"""


def test_a_token_of_an_earlier_request_never_pays_a_later_one(portal: Portal) -> None:
    with portal.api("admin") as admin:
        deployed = admin.post("/api/v1/deployments",
                              files=[("files", ("asked_again.bpmn", ASKED_AGAIN.encode(), "application/xml"))])
        assert deployed.status_code == 201, deployed.text
        started = admin.post("/api/v1/processes/asked_again/instances", json={"data": {}})
        assert started.status_code == 201, started.text
        case = str(started.json()["id"])
        first = pending_payment(admin, {}, case)
        tick(portal.runtime, utcnow() + timedelta(days=2))
        deadline = time.monotonic() + 30
        while len(listed := admin.get(f"/api/v1/instances/{case}/payments").json()["payments"]) < 2:
            assert time.monotonic() < deadline, listed
            time.sleep(0.05)
        second = listed[-1]
        assert (first["amount_rial"], second["amount_rial"]) == (10_000, 20_000)

        # The first token is still payable at the bank; paid and brought back, it is not verified.
        with httpx.Client(base_url=portal.url, timeout=60) as browser:
            old = browser.get(back_path(at_gateway(first["payment_url"])))
        assert old.status_code == 200 and "این پرداخت پذیرفته نشد" in text(old.text)
        statuses = [(p["status"], p["problem"]) for p in admin.get(f"/api/v1/instances/{case}/payments")
                    .json()["payments"]]
        assert statuses == [("failed", "superseded"), ("pending", None)]
        assert _verified_events(portal, case) == []
        assert admin.get(f"/api/v1/instances/{case}").json()["status"] != "completed"

        with httpx.Client(base_url=portal.url, timeout=60) as browser:
            assert browser.get(back_path(at_gateway(second["payment_url"]))).status_code == 200
        final = admin.get(f"/api/v1/instances/{case}").json()
    assert final["status"] == "completed", final.get("error")
    assert final["data"]["late_fee"]["token"] == second["token"] and final["data"]["late_fee"]["amount_rial"] == 20_000
    assert "fee" not in final["data"]
    assert [e["token"] for e in _verified_events(portal, case)] == [second["token"]]
