"""The vehicle transfer's fee left unpaid: after 30 days the case closes at end_unpaid, withdrawn,
with nothing charged and no deed drawn up (the one outcome its scenarios cannot reach: it needs
the clock to move)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from engine.services.runtime import Runtime
from tests.api.test_access import SELLER, citizen_headers, transfer_waiting_for_the_seller
from tests.events.helpers import tick
from tests.fixtures import ADMIN_TOKEN
from tests.web.journey import CITIZEN, sign_in


def test_a_fee_unpaid_for_30_days_closes_the_transfer(client: TestClient, runtime: Runtime) -> None:
    buyer = citizen_headers(runtime, CITIZEN)
    case, consent = transfer_waiting_for_the_seller(client, runtime, buyer)
    agreed = client.post(f"/api/v1/tasks/{consent['id']}/complete", headers=citizen_headers(runtime, SELLER),
                         json={"data": {"seller_decision": "agree"}})
    assert agreed.status_code == 200, agreed.text
    deadline = time.monotonic() + 30
    while not client.get(f"/api/v1/instances/{case}/payments", headers=buyer).json()["due"]:
        assert time.monotonic() < deadline, "the fee was never asked"
        time.sleep(0.05)
    assert tick(runtime, days=29).fired == []
    assert tick(runtime, days=30, minutes=1).fired == [case]
    final = client.get(f"/api/v1/instances/{case}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    assert final["status"] == "completed"
    assert "end_unpaid" in [entry.get("element_id") for entry in final["history"]]
    assert "deed" not in final["data"] and "certificate" not in final["data"]
    browser = TestClient(client.app)
    sign_in(browser, runtime)
    page = browser.get(f"/cases/{case}")
    # The model's own words for this end, and what to do next; not "you withdrew it".
    assert "هزینه در ۳۰ روز پرداخت نشد" in page.text and "پولی از شما گرفته نشد" in page.text
    assert "نیازمند پیگیری کارشناس" not in page.text
