"""Paying a case's fee end to end over real HTTP: the portal, the simulated bank gateway's page,
the return, the server-to-server verify, and the case moving on exactly once; forged and repeated
returns, a gateway that is down, a new try after a cancel, and a refund after a refusal."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from connectors.simulators import Behaviour
from engine.core.statuses import PaymentStatus
from engine.db.base import utcnow
from engine.db.models import AuditEvent, Payment
from engine.web.i18n import translator
from tests.payments.gateway import GATEWAY_KEY, at_gateway, back_path, pending_payment
from tests.payments.server import OTHER, OTHER_MOBILE, Portal
from tests.web.journey import PDF, csrf, text

FEE = "۴۵۰٬۰۰۰ تومان (۴٬۵۰۰٬۰۰۰ ریال)"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _ready(api: httpx.Client, case: str, name: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        tasks = api.get("/api/v1/tasks", params={"instance_id": case, "status": "ready"}).json()
        found = [t for t in tasks if t["name"] == name]
        if found:
            return dict(found[0])
        assert time.monotonic() < deadline, f"{name} is not ready: {tasks}"
        time.sleep(0.05)


def _applied(portal: Portal, role: str = "citizen", activity: str = "food", area: int = 40) -> str:
    """A business licence case of `role`'s citizen, applied for and waiting for its fee."""
    with portal.api(role) as api:
        started = api.post("/api/v1/processes/business_licence/instances", json={"data": {}})
        assert started.status_code == 201, started.text
        case = str(started.json()["id"])
        apply = _ready(api, case, "apply")
        lease = api.post("/api/v1/uploads", files={"file": ("lease.pdf", PDF, "application/pdf")}).json()
        done = api.post(f"/api/v1/tasks/{apply['id']}/complete", json={"data": {
            "business_name": "نان سنگک برکت", "activity": activity, "area_m2": area,
            "premises_document": lease["id"]}})
        assert done.status_code == 200, done.text
        pending_payment(api, {}, case)
    return case


def _payments(portal: Portal, case: str, role: str = "citizen") -> dict[str, Any]:
    with portal.api(role) as api:
        return dict(api.get(f"/api/v1/instances/{case}/payments").json())


def _actions(portal: Portal, case: str, action: str) -> int:
    with portal.runtime.reading() as session:
        return len(session.execute(select(AuditEvent.id).where(AuditEvent.instance_id == case,
                                                               AuditEvent.action == action)).all())


def _tasks(portal: Portal, case: str) -> list[str]:
    with portal.api("admin") as api:
        return [t["name"] for t in api.get("/api/v1/tasks", params={"instance_id": case, "status": "ready"}).json()]


def _gateway_log(portal: Portal, path: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=portal.url) as http:
        entries = http.get("/sandbox/_sandbox/log", params={"service": "payment", "limit": 1000}).json()["entries"]
    return [e for e in entries if e["path"].endswith(path)]


def _inquiry(portal: Portal, token: str) -> dict[str, Any]:
    with httpx.Client(base_url=portal.url) as http:
        return dict(http.get(f"/sandbox/payment/transactions/{token}", headers=GATEWAY_KEY).json())


def test_the_citizen_pays_and_the_case_moves_on_once_verified(portal: Portal) -> None:
    case = _applied(portal)
    browser = portal.browser()
    page = browser.get(f"/cases/{case}")
    assert f"پرداخت {FEE}" in text(page.text)
    assert _tasks(portal, case) == [], "nothing moves before the payment"
    asked = browser.post(f"/cases/{case}/pay", data={"csrf_token": csrf(page.text)})
    assert asked.status_code == 303 and asked.headers["location"].startswith(f"{portal.url}/sandbox/payment/pay/")
    gateway = httpx.get(asked.headers["location"])
    assert FEE in gateway.text
    back = browser.get(back_path(at_gateway(asked.headers["location"])))
    assert back.status_code == 200, back.text
    [payment] = _payments(portal, case)["payments"]
    assert payment["status"] == "verified" and re.fullmatch(r"\d{12}", payment["reference"])
    assert payment["card"] == "603799******7893" and payment["payment_url"] is None
    persian = payment["reference"].translate(PERSIAN)
    assert "پرداخت شما انجام شد" in text(back.text) and persian in text(back.text)
    assert _tasks(portal, case) == ["inspect"]
    assert _actions(portal, case, "payment.verified") == 1
    shown = text(browser.get(f"/cases/{case}").text)
    when = translator("fa").date(datetime.fromisoformat(payment["verified_at"]))
    assert re.fullmatch(r"۱۴[۰-۹]{2}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}", when), "a Jalali date, Tehran time"
    assert f"{FEE} در {when} پرداخت شد" in shown and persian in shown
    assert f'action="/cases/{case}/pay"' not in browser.get(f"/cases/{case}").text
    english = browser.get(f"/lang/en?next=/cases/{case}", follow_redirects=True)
    assert "450,000 tomans (4,500,000 rials) paid on" in text(english.text)


def test_a_return_repeated_ten_times_at_once_verifies_once_and_moves_the_case_once(portal: Portal) -> None:
    case = _applied(portal)
    payment = pending_payment(portal.api(), {}, case)
    back = back_path(at_gateway(payment["payment_url"]))
    barrier = threading.Barrier(10)
    answers: list[int] = []

    def come_back() -> None:
        with httpx.Client(base_url=portal.url, timeout=60) as browser:
            barrier.wait()
            answers.append(browser.get(back).status_code)

    threads = [threading.Thread(target=come_back) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 10 and set(answers) <= {200, 202} and 200 in answers, answers
    assert len(_gateway_log(portal, "/verify")) == 1, "the gateway was asked once"
    assert _inquiry(portal, payment["token"])["verifications"] == 1
    assert _actions(portal, case, "payment.verified") == 1
    assert _tasks(portal, case) == ["inspect"]
    later = httpx.get(f"{portal.url}{back}")
    assert later.status_code == 200 and "پرداخت شما انجام شد" in text(later.text)
    assert len(_gateway_log(portal, "/verify")) == 1, "a settled payment is answered from our own record"
    assert _actions(portal, case, "payment.verified") == 1


def test_forged_returns_are_refused_and_nothing_moves(portal: Portal) -> None:
    mine, theirs = _applied(portal), _applied(portal, "other_citizen")
    my_payment = pending_payment(portal.api(), {}, mine)
    their_payment = pending_payment(portal.api("other_citizen"), {}, theirs)
    with httpx.Client(base_url=portal.url, timeout=60) as stranger:
        unknown = stranger.get("/payments/callback", params={"token": "0" * 32, "status": "OK",
                                                             "reference": "123456789012"})
        assert unknown.status_code == 404 and "این پرداخت را نمی‌شناسیم" in text(unknown.text)
        assert stranger.get("/payments/callback").status_code == 400
        # The gateway's words in the address prove nothing: an unpaid token said to be paid is not paid.
        claimed = stranger.get("/payments/callback", params={"token": my_payment["token"], "status": "OK",
                                                             "reference": "123456789012"})
        assert claimed.status_code == 200 and "پرداخت کامل نشد" in text(claimed.text)
        posted = stranger.post("/payments/callback", data={"token": their_payment["token"], "status": "OK"})
        assert posted.status_code == 200 and "پرداخت کامل نشد" in text(posted.text)
    assert _tasks(portal, mine) == [] and _tasks(portal, theirs) == []
    # Another case's paid token brought back by this citizen's browser pays that case, not this one.
    my_browser = portal.browser()
    assert my_browser.get(back_path(at_gateway(their_payment["payment_url"]))).status_code == 200
    assert _tasks(portal, theirs) == ["inspect"] and _tasks(portal, mine) == []
    assert _payments(portal, mine)["payments"][-1]["status"] == "pending"
    assert _actions(portal, mine, "payment.verified") == 0
    # A payment row that says another amount than the gateway's (tampered, or a bug) is never taken.
    with portal.runtime.unit_of_work() as session:
        session.execute(update(Payment).where(Payment.token == my_payment["token"]).values(amount_rial=10_000))
    mismatch = my_browser.get(back_path(at_gateway(my_payment["payment_url"])))
    assert mismatch.status_code == 200 and "مبلغ پرداخت با هزینه این درخواست یکی نبود" in text(mismatch.text)
    assert _payments(portal, mine)["payments"][-1]["status"] == "failed"
    assert _tasks(portal, mine) == [] and _actions(portal, mine, "payment.verified") == 0
    # No one may send the message in the gateway's place.
    with portal.api("admin") as admin:
        sent = admin.post("/api/v1/messages", json={"name": "payment_verified", "correlation": None,
                                                    "payload": {"token": my_payment["token"]}})
    assert sent.status_code == 422, sent.text
    assert _tasks(portal, mine) == [] and _actions(portal, mine, "payment.verified") == 0
    assert other_citizen_cannot_see(portal, mine)


def other_citizen_cannot_see(portal: Portal, case: str) -> bool:
    with portal.api("other_citizen") as api:
        return api.get(f"/api/v1/instances/{case}/payments").status_code == 404


def test_a_gateway_down_at_verify_loses_nothing(portal: Portal) -> None:
    case = _applied(portal)
    payment = pending_payment(portal.api(), {}, case)
    back = back_path(at_gateway(payment["payment_url"]))
    with httpx.Client(base_url=portal.url, timeout=60) as http:
        assert http.post("/sandbox/_sandbox/outage", json={"service": "payment", "down": True}).status_code == 200
        down = http.get(back)
        assert down.status_code == 503 and down.headers["Retry-After"] == "30"
        assert "چیزی از دست نرفته است" in text(down.text)
        assert f'href="/payments/callback?token={payment["token"]}"' in down.text, "the same return, to try again"
        assert _payments(portal, case)["payments"][-1]["status"] == "pending"
        assert _tasks(portal, case) == [] and _actions(portal, case, "payment.verified") == 0
        assert http.post("/sandbox/_sandbox/outage", json={"service": "payment", "down": False}).status_code == 200
        again = http.get(back)
    assert again.status_code == 200 and "پرداخت شما انجام شد" in text(again.text)
    assert _tasks(portal, case) == ["inspect"] and _actions(portal, case, "payment.verified") == 1


def test_a_return_whose_server_died_mid_verify_is_taken_over(portal: Portal) -> None:
    case = _applied(portal)
    payment = pending_payment(portal.api(), {}, case)
    at_gateway(payment["payment_url"])
    # As a server killed between its claim and the gateway's answer leaves the row.
    with portal.runtime.unit_of_work() as session:
        session.execute(update(Payment).where(Payment.token == payment["token"]).values(
            status=PaymentStatus.VERIFYING, claimed_at=utcnow() - timedelta(minutes=5)))
    browser = portal.browser()
    page = browser.get(f"/cases/{case}")
    assert "پرداخت شما را با بانک تأیید می‌کنیم" in text(page.text)
    again = re.search(r'href="(/payments/callback\?token=[0-9a-f]+)"', page.text)
    assert again, "the case page offers to check again"
    assert browser.get(again.group(1)).status_code == 200
    assert _tasks(portal, case) == ["inspect"] and _actions(portal, case, "payment.verified") == 1


def test_after_a_cancel_the_citizen_pays_with_a_new_token(portal: Portal) -> None:
    case = _applied(portal)
    first = pending_payment(portal.api(), {}, case)
    browser = portal.browser()
    cancelled = browser.get(back_path(at_gateway(first["payment_url"], "cancel")))
    assert cancelled.status_code == 200 and "پرداخت لغو شد" in text(cancelled.text)
    page = browser.get(f"/cases/{case}")
    assert "پولی از حساب شما برداشته نشد" in text(page.text) and f"پرداخت دوباره {FEE}" in text(page.text)
    assert _tasks(portal, case) == []
    asked = browser.post(f"/cases/{case}/pay", data={"csrf_token": csrf(page.text)})
    assert asked.status_code == 303 and asked.headers["location"] != first["payment_url"]
    assert browser.get(back_path(at_gateway(asked.headers["location"]))).status_code == 200
    assert [p["status"] for p in _payments(portal, case)["payments"]] == ["cancelled", "verified"]
    assert _tasks(portal, case) == ["inspect"]
    # Once paid, there is nothing left to pay: the button takes the citizen back to the case.
    paid = browser.post(f"/cases/{case}/pay", data={"csrf_token": csrf(page.text)})
    assert paid.status_code == 303 and paid.headers["location"] == f"/cases/{case}"
    assert len(_payments(portal, case)["payments"]) == 2


def test_a_gateway_down_when_paying_again_says_so_and_keeps_nothing(portal: Portal) -> None:
    case = _applied(portal)
    first = pending_payment(portal.api(), {}, case)
    browser = portal.browser()
    browser.get(back_path(at_gateway(first["payment_url"], "cancel")))
    page = browser.get(f"/cases/{case}")
    with httpx.Client(base_url=portal.url) as http:
        http.post("/sandbox/_sandbox/outage", json={"service": "payment", "down": True, "seconds": 60})
        down = browser.post(f"/cases/{case}/pay", data={"csrf_token": csrf(page.text)})
        http.post("/sandbox/_sandbox/outage", json={"service": "payment", "down": False})
    assert down.status_code == 503 and down.headers["Retry-After"] == "60"
    assert "درگاه پرداخت در دسترس نیست" in text(down.text)
    assert [p["status"] for p in _payments(portal, case)["payments"]] == ["cancelled"]
    again = browser.post(f"/cases/{case}/pay", data={"csrf_token": csrf(page.text)})
    assert again.status_code == 303 and "/sandbox/payment/pay/" in again.headers["location"]


def test_a_refusal_after_payment_refunds_exactly_once(portal: Portal) -> None:
    case = _applied(portal)
    payment = pending_payment(portal.api(), {}, case)
    assert httpx.get(f"{portal.url}{back_path(at_gateway(payment['payment_url']))}").status_code == 200
    with portal.api("staff_municipality") as municipality:
        inspect = _ready(municipality, case, "inspect")
        assert municipality.post(f"/api/v1/tasks/{inspect['id']}/complete",
                                 json={"data": {"inspection_passed": False}}).status_code == 200
    gateway = portal.sandbox.services["payment"]
    normal = gateway.behaviour
    # The gateway refunds, and the answer is lost on the way back: the call is retried with its key.
    gateway.behaviour = Behaviour(latency_ms=0, jitter_ms=0, fail_every=1, fail_after_side_effect=True)
    with portal.api("staff_guild") as guild:
        review = _ready(guild, case, "review")
        refused = guild.post(f"/api/v1/tasks/{review['id']}/complete",
                             json={"data": {"review_outcome": "reject", "review_reason": "محل مناسب نیست"}})
        assert refused.status_code == 200, refused.text
    gateway.behaviour = normal
    deadline = time.monotonic() + 60
    while (status := _payments(portal, case)["payments"][-1]["status"]) != "refunded":
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    refunds = _gateway_log(portal, "/refunds")
    assert [(e["status"], e["replayed"]) for e in refunds] == [(500, False), (201, True)]
    assert _inquiry(portal, payment["token"])["refunds"] == 1
    with portal.api("admin") as admin:
        final = admin.get(f"/api/v1/instances/{case}").json()
    assert final["status"] == "completed" and final["data"]["refund"]["already_refunded"] is False
    [refunded] = _payments(portal, case)["payments"]
    assert refunded["refund_id"] == final["data"]["refund"]["refund_id"]
    assert _actions(portal, case, "payment.refunded") == 1
    shown = text(portal.browser().get(f"/cases/{case}").text)
    refund_id = refunded["refund_id"].translate(PERSIAN)
    assert f"{FEE} در" in shown and f"شماره بازپرداخت: {refund_id}" in shown


def test_payments_of_another_citizens_case_are_not_found(portal: Portal) -> None:
    case = _applied(portal)
    assert other_citizen_cannot_see(portal, case)
    other = portal.browser(OTHER, OTHER_MOBILE)
    page = other.get("/cases")
    assert other.post(f"/cases/{case}/pay", data={"csrf_token": csrf(page.text)}).status_code == 404
