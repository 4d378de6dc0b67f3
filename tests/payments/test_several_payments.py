"""A case that asks for more than one payment (the building permit's two instalments): each is
asked by its own `payment/request` task, paid on the gateway's page, verified once and delivered to
the wait that asked for it; returning an earlier payment's address never pays a later one."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import select

from engine.db.models import AuditEvent
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
    citizen, clerk = portal.api(), portal.api("staff_municipality")
    started = citizen.post("/api/v1/processes/building_permit/instances", json={"data": {}})
    assert started.status_code == 201, started.text
    case = str(started.json()["id"])
    plans = citizen.post("/api/v1/uploads", files={"file": ("plans.pdf", PDF, "application/pdf")}).json()
    _complete(citizen, case, "apply", {"floors": 4, "built_area_m2": 480, "designer_membership": "01-10-12345",
                                       "undertaking": True, "plans": plans["id"]})

    first = pending_payment(citizen, {}, case)
    assert first["amount_rial"] == FIRST
    first_back = back_path(at_gateway(first["payment_url"]))
    assert "پرداخت شما انجام شد" in text(portal.browser().get(first_back).text)
    _complete(clerk, case, "plan_check", {"review_outcome": "approve"})
    _complete(clerk, case, "site_inspection", {"inspection_passed": True, "inspection_note": "ملک آماده ساخت است"})

    second = pending_payment(citizen, {}, case)
    assert second["token"] != first["token"] and second["amount_rial"] == SECOND
    assert second["attempt"] == first["attempt"] + 1
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
