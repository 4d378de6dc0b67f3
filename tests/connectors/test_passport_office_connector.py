"""The passport office, post-delivery and exit-ban connectors against the simulated agencies, over real HTTP."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from connectors.call_context import make_context
from connectors.registry import load_registry
from connectors.sdk import ConnectorError
from connectors.simulators.settings import simulated_config

USED = ["passport_office", "post", "judiciary"]


def call(agencies: str, operation_id: str, params: dict[str, Any], key: str = "") -> dict[str, Any]:
    registry = load_registry(allow=USED, config=simulated_config(f"{agencies}/sandbox"))
    assert registry.problems == []
    operation = registry.get(operation_id)
    assert operation is not None
    context = make_context(timeout=5, case_id="case-1", purpose="test", end_user="0013542419", attempt=1,
                           idempotency_key=key or f"test-{operation_id}-{sorted(params.items())}",
                           connector_id=operation_id.split("/")[0], logger=logging.getLogger("test"))
    try:
        return operation.call(context, params)
    finally:
        context.http.close()


def test_passport_office_is_discovered() -> None:
    registry = load_registry(allow=["passport_office"])
    assert sorted(registry.operations) == ["passport_office/appointment_slots", "passport_office/book_appointment",
                                           "passport_office/issue_passport", "passport_office/record_biometrics"]


def test_book_a_slot_record_biometrics_and_issue(agencies: str) -> None:
    found = call(agencies, "passport_office/appointment_slots", {"postal_code": "8175913465"})
    assert found["office"]["code"] == "P10-81759" and found["slots"]
    slot = found["slots"][-1]["slot_id"]
    booking = call(agencies, "passport_office/book_appointment", {"national_code": "9876543210", "slot_id": slot})
    assert booking["slot_id"] == slot and booking["office_code"] == "P10-81759"
    again = call(agencies, "passport_office/book_appointment", {"national_code": "9876543210", "slot_id": slot},
                 key="another-key")
    assert again["booking_number"] == booking["booking_number"]
    later = call(agencies, "passport_office/appointment_slots", {"postal_code": "8175913465"}, key="later")
    assert slot not in [s["slot_id"] for s in later["slots"]]
    with pytest.raises(ConnectorError):
        call(agencies, "passport_office/book_appointment", {"national_code": "0013542419", "slot_id": slot})
    number = booking["booking_number"]
    assert call(agencies, "passport_office/record_biometrics", {"booking_number": number})["recorded"] is True
    passport = call(agencies, "passport_office/issue_passport", {"booking_number": number, "validity_years": 7})
    assert passport["national_code"] == "9876543210" and passport["passport_number"].startswith("P")


def test_parcel_order_is_idempotent_by_order_key(agencies: str) -> None:
    order = {"postal_code": "1193653471", "recipient_name": "علی رضایی", "contents": "گذرنامه",
             "order_key": "connector-test-order"}
    first = call(agencies, "post/parcel_order", order)
    assert first["status"] == "accepted" and len(first["tracking_number"]) == 24
    assert call(agencies, "post/parcel_order", order, key="retried")["tracking_number"] == first["tracking_number"]
    status = call(agencies, "post/parcel_status", {"tracking_number": first["tracking_number"]})
    assert status["order_key"] == "connector-test-order"
    keyed = call(agencies, "post/parcel_order", {k: v for k, v in order.items() if k != "order_key"},
                 key="case-7:deliver")
    assert keyed["order_key"] == "case-7:deliver"


@pytest.mark.parametrize(("operation_id", "params", "code"), [
    ("post/parcel_status", {"tracking_number": "0" * 24}, "not-found"),
    ("post/parcel_order", {"postal_code": "1315700000", "recipient_name": "x", "contents": "y"}, "not-found"),
    ("post/parcel_order", {"postal_code": "1193653471", "recipient_name": "x", "contents": "y",
                           "order_key": "a" * 64 + "b"}, "bad-params"),
    ("passport_office/record_biometrics", {"booking_number": "BIO-00000000"}, "not-found"),
])
def test_refusals_are_final_errors(agencies: str, operation_id: str, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ConnectorError) as raised:
        call(agencies, operation_id, params)
    assert raised.value.code == code and not raised.value.retryable


def test_exit_ban(agencies: str) -> None:
    banned = call(agencies, "judiciary/exit_ban", {"national_code": "0040010449"})
    assert banned["banned"] is True and banned["authority"] == "financial-judgment"
    assert call(agencies, "judiciary/exit_ban", {"national_code": "0013542419"})["banned"] is False
