"""The payment connector: its contract, and request, verify and refund against the simulated gateway."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from connectors.agencies.payment import PaymentGateway
from connectors.call_context import make_context
from connectors.registry import Operation, load_registry
from connectors.sdk import ConnectorError
from connectors.testing import check_contract, check_discoverable

CALLBACK = "http://portal.test/payments/callback"
KEY = {"payment_api_key": "sandbox-payment-key"}


def _operation(agencies: str, name: str) -> Operation:
    registry = load_registry(allow=["payment"], config={"payment": {
        "base_url": f"{agencies}/sandbox/payment", "callback_url": CALLBACK}})
    assert registry.problems == []
    found = registry.get(f"payment/{name}")
    assert found is not None
    return found


def _call(agencies: str, name: str, params: dict[str, Any], key: str, secrets: dict[str, str] = KEY) -> Any:
    operation = _operation(agencies, name)
    context = make_context(timeout=5, case_id="case-1", purpose="business_licence", end_user="0013542419", attempt=1,
                           idempotency_key=key, connector_id="payment", secrets=secrets,
                           logger=logging.getLogger("test"))
    try:
        return operation.call(context, params)
    finally:
        context.http.close()


def _pay(payment_url: str, card: str = "6037991234567893") -> httpx.Response:
    token = payment_url.rsplit("/", 1)[1]
    return httpx.post(payment_url, data={"action": "pay", "card_number": card, "token": token})


def test_contract_and_discovery() -> None:
    assert check_contract(PaymentGateway) == []
    assert check_discoverable("payment") == []
    operation = load_registry(allow=["payment"]).get("payment/request")
    assert operation is not None and operation.unset_settings() == [
        "PANJEREH_CONNECTORS__PAYMENT__BASE_URL", "PANJEREH_CONNECTORS__PAYMENT__CALLBACK_URL"]


def test_request_verify_refund(agencies: str) -> None:
    issued = _call(agencies, "request", {"amount_rial": 4_500_000, "description": "پروانه کسب"}, "panjereh-call-1")
    assert issued["order_id"] == "panjereh-call-1" and issued["amount_rial"] == 4_500_000
    again = _call(agencies, "request", {"amount_rial": 4_500_000, "description": "پروانه کسب"}, "panjereh-call-1")
    assert again == issued, "a retried request (same idempotency key) gets the same token"
    checked = {"token": issued["token"], "amount_rial": 4_500_000}
    with pytest.raises(ConnectorError) as unpaid:
        _call(agencies, "verify", checked, "v-1")
    assert unpaid.value.code == "not-paid" and not unpaid.value.retryable
    back = _pay(issued["payment_url"])
    assert back.status_code == 303 and back.headers["location"].startswith(f"{CALLBACK}?token={issued['token']}")
    verified = _call(agencies, "verify", checked, "v-2")
    assert verified["status"] == "VERIFIED" and verified["card"] == "603799******7893"
    assert _call(agencies, "verify", checked, "v-3")["status"] == "ALREADY_VERIFIED"
    refunded = _call(agencies, "refund", checked, "r-1")
    assert refunded["already_refunded"] is False
    assert _call(agencies, "refund", checked, "r-2") == {**refunded, "already_refunded": True}


@pytest.mark.parametrize("params, code", [
    ({"token": "0" * 32, "amount_rial": 4_500_000}, "unknown-token"),
])
def test_gateway_refusals_are_final_codes(agencies: str, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ConnectorError) as refused:
        _call(agencies, "verify", params, "v-x")
    assert refused.value.code == code and not refused.value.retryable


def test_amount_mismatch_and_refund_of_an_unverified_payment(agencies: str) -> None:
    issued = _call(agencies, "request", {"amount_rial": 1_500_000}, "panjereh-call-2")
    _pay(issued["payment_url"])
    with pytest.raises(ConnectorError) as mismatch:
        _call(agencies, "verify", {"token": issued["token"], "amount_rial": 10_000}, "v-4")
    assert mismatch.value.code == "amount-mismatch"
    with pytest.raises(ConnectorError) as unverified:
        _call(agencies, "refund", {"token": issued["token"], "amount_rial": 1_500_000}, "r-3")
    assert unverified.value.code == "not-verified"


def test_without_the_key_the_gateway_refuses(agencies: str) -> None:
    with pytest.raises(ConnectorError) as refused:
        _call(agencies, "request", {"amount_rial": 1_500_000}, "panjereh-call-3", secrets={})
    assert refused.value.code == "secret-missing"
    with pytest.raises(ConnectorError) as wrong:
        _call(agencies, "request", {"amount_rial": 1_500_000}, "panjereh-call-4",
              secrets={"payment_api_key": "wrong"})
    assert wrong.value.code == "agency-refused"


def test_amounts_outside_the_gateway_limits_are_bad_params(agencies: str) -> None:
    for amount in (9_999, 500_000_001):
        with pytest.raises(ConnectorError) as refused:
            _call(agencies, "request", {"amount_rial": amount}, f"panjereh-call-{amount}")
        assert refused.value.code == "bad-params"
