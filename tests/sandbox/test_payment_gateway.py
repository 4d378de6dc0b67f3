"""The simulated payment gateway over real HTTP: tokens, the citizen's page, verify, refund."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.simulators import create_sandbox_app
from connectors.simulators.payment import tomans_and_rials
from tests.sandbox.conftest import Serve, quiet

AUTH = {"Authorization": "Bearer sandbox-payment-key"}
CALLBACK = "http://portal.test/payments/callback"
PAYS, DECLINED = "6037991234567893", "6104337812345674"


def _issue(http: httpx.Client, amount: int = 4_500_000, order: str = "A-1", **extra: Any) -> dict[str, Any]:
    response = http.post("/payment/requests", headers={**AUTH, **extra.pop("headers", {})},
                         json={"amount_rial": amount, "order_id": order, "callback_url": CALLBACK, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _press(http: httpx.Client, token: str, action: str, card: str = PAYS) -> httpx.Response:
    return http.post(f"/payment/pay/{token}", data={"action": action, "card_number": card})


def _returned(response: httpx.Response) -> dict[str, str]:
    """Where the gateway sent the browser back, and with what."""
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def _verify(http: httpx.Client, token: str, amount: int = 4_500_000) -> httpx.Response:
    return http.post("/payment/verify", json={"token": token, "amount_rial": amount}, headers=AUTH)


def test_paid_then_verified_once(http: httpx.Client) -> None:
    issued = _issue(http, description="پروانه کسب")
    assert issued["payment_url"] == f"{http.base_url}/payment/pay/{issued['token']}"
    page = http.get(issued["payment_url"])
    assert page.status_code == 200 and "۴۵۰٬۰۰۰ تومان (۴٬۵۰۰٬۰۰۰ ریال)" in page.text and "پروانه کسب" in page.text
    assert _verify(http, issued["token"]).json()["error"] == "not-paid"
    back = _returned(_press(http, issued["token"], "pay", "6037-9912 3456 ۷۸۹۳"))
    assert back["token"] == issued["token"] and back["status"] == "OK" and re.fullmatch(r"\d{12}", back["reference"])
    first = _verify(http, issued["token"])
    assert first.status_code == 200
    assert first.json() | {"paid_at": "-"} == {
        "token": issued["token"], "status": "VERIFIED", "reference": back["reference"], "trace": first.json()["trace"],
        "card": "603799******7893", "amount_rial": 4_500_000, "paid_at": "-"}
    again = _verify(http, issued["token"]).json()
    assert again["status"] == "ALREADY_VERIFIED" and again["reference"] == back["reference"]
    inquiry = http.get(f"/payment/transactions/{issued['token']}", headers=AUTH).json()
    assert inquiry["state"] == "VERIFIED" and inquiry["verifications"] == 2
    assert http.get("/_sandbox/status").json()["services"]["payment"]["side_effects"] == 1
    # A browser that comes back to the page of a settled token is sent back to the merchant.
    assert _returned(http.get(issued["payment_url"]))["status"] == "OK"


def test_cancel_decline_and_refusals_on_the_page(http: httpx.Client) -> None:
    cancelled = _issue(http, order="A-1")
    assert _returned(_press(http, cancelled["token"], "cancel")) == {"token": cancelled["token"],
                                                                      "status": "CanceledByUser"}
    assert _verify(http, cancelled["token"]).json()["error"] == "cancelled"
    declined = _issue(http, order="A-2")
    for _ in range(2):
        page = _press(http, declined["token"], "pay", DECLINED)
        assert page.status_code == 422 and 'role="alert"' in page.text and "insufficient funds" in page.text
    assert _returned(_press(http, declined["token"], "pay", DECLINED))["status"] == "Failed"
    assert _verify(http, declined["token"]).json()["error"] == "declined"
    other = _issue(http, order="A-3")
    assert _press(http, other["token"], "pay", "1234").status_code == 422
    assert _press(http, other["token"], "pay", "6219861111222237").status_code == 422  # valid, not a test card
    assert _verify(http, other["token"]).json()["error"] == "not-paid"
    assert http.get("/payment/pay/nope").status_code == 404


def test_amount_mismatch_and_unknown_tokens_change_nothing(http: httpx.Client) -> None:
    issued = _issue(http)
    _press(http, issued["token"], "pay")
    mismatch = _verify(http, issued["token"], amount=10_000)
    assert mismatch.status_code == 409 and mismatch.json()["error"] == "amount-mismatch"
    unknown = _verify(http, "0" * 32)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown-token"
    assert _verify(http, issued["token"]).json()["status"] == "VERIFIED"


def test_refund_once_whatever_the_key(http: httpx.Client) -> None:
    issued = _issue(http)
    body = {"token": issued["token"], "amount_rial": 4_500_000}
    refused = http.post("/payment/refunds", json=body, headers=AUTH)
    assert refused.status_code == 409 and refused.json()["error"] == "not-verified"
    _press(http, issued["token"], "pay")
    _verify(http, issued["token"])
    first = http.post("/payment/refunds", json=body, headers={**AUTH, "Idempotency-Key": "k1"})
    assert first.status_code == 201 and first.json()["already_refunded"] is False
    replayed = http.post("/payment/refunds", json=body, headers={**AUTH, "Idempotency-Key": "k1"})
    assert replayed.json() == first.json() and replayed.headers["idempotent-replayed"] == "true"
    again = http.post("/payment/refunds", json=body, headers={**AUTH, "Idempotency-Key": "k2"})
    assert again.status_code == 200 and again.json() == {**first.json(), "already_refunded": True}
    assert http.get(f"/payment/transactions/{issued['token']}", headers=AUTH).json()["refunds"] == 1
    assert _verify(http, issued["token"]).json()["error"] == "refunded"


def test_requests_need_the_key_a_fresh_order_and_a_sane_amount(http: httpx.Client) -> None:
    body = {"amount_rial": 4_500_000, "order_id": "A-1", "callback_url": CALLBACK}
    assert http.post("/payment/requests", json=body).status_code == 401
    assert http.post("/payment/verify", json={"token": "x", "amount_rial": 1}).status_code == 401
    _issue(http)
    duplicate = http.post("/payment/requests", json=body, headers=AUTH)
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "duplicate-order"
    for amount in (9_999, 500_000_001):
        assert http.post("/payment/requests", json={**body, "order_id": "B", "amount_rial": amount},
                         headers=AUTH).status_code == 422
    assert http.post("/payment/requests", json={**body, "order_id": "C", "callback_url": "javascript:x"},
                     headers=AUTH).status_code == 422


def test_a_lost_answer_to_a_request_is_replayed_not_issued_again(http: httpx.Client) -> None:
    first = _issue(http, headers={"Idempotency-Key": "call-1"})
    again = _issue(http, headers={"Idempotency-Key": "call-1"})
    assert again == first


def test_tokens_expire_and_unverified_payments_are_reversed(serve: Serve) -> None:
    now = [1000.0]
    app = create_sandbox_app(quiet())
    app.state.sandbox.clock = lambda: now[0]
    with httpx.Client(base_url=serve(app=app)) as http:
        unused, paid = _issue(http, order="A-1"), _issue(http, order="A-2")
        _press(http, paid["token"], "pay")
        now[0] += 21 * 60
        assert _returned(http.get(unused["payment_url"]))["status"] == "SessionIsNull"
        assert _verify(http, unused["token"]).json()["error"] == "expired"
        now[0] += 10 * 60
        assert _verify(http, paid["token"]).json()["error"] == "reversed"


def test_the_money_reads_as_on_a_receipt() -> None:
    assert tomans_and_rials(4_500_000) == "۴۵۰٬۰۰۰ تومان (۴٬۵۰۰٬۰۰۰ ریال)"
    assert tomans_and_rials(10_005) == "۱٬۰۰۰٫۵ تومان (۱۰٬۰۰۵ ریال)"


@pytest.mark.parametrize("path", ["/payment/pay/x", "/payment/verify"])
def test_an_outage_takes_the_gateway_down(http: httpx.Client, path: str) -> None:
    http.post("/_sandbox/outage", json={"service": "payment", "down": True})
    response = http.get(path) if "pay/" in path else http.post(path, json={}, headers=AUTH)
    assert response.status_code == 503
