"""The vehicle-transfer connectors against their simulated agencies, over real HTTP."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pytest

from connectors.call_context import make_context
from connectors.registry import load_registry
from connectors.sdk import ConnectorError
from connectors.simulators.settings import simulated_config

VEHICLE_CONNECTORS = ["vehicle_registry", "traffic_fines", "vehicle_tax", "insurer", "notary"]


def _call(agencies: str, operation_id: str, params: dict[str, Any], case_id: str = "case-1") -> dict[str, Any]:
    connector = operation_id.split("/")[0]
    registry = load_registry(allow=VEHICLE_CONNECTORS, config=simulated_config(f"{agencies}/sandbox"))
    assert registry.problems == []
    operation = registry.get(operation_id)
    assert operation is not None
    # One key per question, ASCII as a header must be.
    key = f"test-{operation_id}-{case_id}-" + hashlib.sha256(repr(sorted(params.items())).encode()).hexdigest()[:16]
    context = make_context(timeout=5, case_id=case_id, purpose="test", end_user="0013542419", attempt=1,
                           idempotency_key=key, connector_id=connector, secrets={}, logger=logging.getLogger("test"))
    try:
        return operation.call(context, params)
    finally:
        context.http.close()


def test_every_vehicle_connector_is_discovered() -> None:
    registry = load_registry(allow=VEHICLE_CONNECTORS)
    assert registry.problems == []
    assert sorted(registry.connectors) == sorted(VEHICLE_CONNECTORS)


@pytest.mark.parametrize("operation_id, params, expected", [
    ("vehicle_registry/vehicle_by_plate", {"plate": "۱۲ ب ۳۴۵ ایران ۶۷"},
     {"owner_national_code": "9876543210", "vin": "NAA10112345679800", "seized": False}),
    ("vehicle_registry/vehicle_by_plate", {"plate": "44 س 333 ایران 30"}, {"seized": True}),
    ("vehicle_registry/vehicle_by_vin", {"vin": "NAA10112345679800"}, {"plate": "12 ب 345 ایران 67"}),
    ("traffic_fines/unpaid_fines", {"plate": "22 ج 111 ایران 10"}, {"unpaid_count": 3, "clearance_number": None}),
    ("traffic_fines/unpaid_fines", {"plate": "12 ب 345 ایران 67"}, {"unpaid_count": 0, "unpaid_total_rial": 0}),
    ("vehicle_tax/unpaid_tax", {"plate": "55 ص 444 ایران 40"}, {"unpaid_years": [1403, 1404]}),
    ("vehicle_tax/unpaid_tax", {"plate": "12 ب 345 ایران 67"}, {"unpaid_rial": 0}),
    ("insurer/third_party_policy", {"plate": "33 د 222 ایران 20"}, {"valid": False}),
    ("insurer/third_party_policy", {"plate": "12 ب 345 ایران 67"}, {"valid": True}),
])
def test_operation_answers(agencies: str, operation_id: str, params: dict[str, Any],
                           expected: dict[str, Any]) -> None:
    result = _call(agencies, operation_id, params)
    assert {key: result[key] for key in expected} == expected


def test_the_deed_is_drawn_up_once_per_case(agencies: str) -> None:
    asked = {"plate": "12 ب 345 ایران 67", "vin": "NAA10112345679800", "seller_national_code": "9876543210",
             "buyer_national_code": "0013542419"}
    first = _call(agencies, "notary/sale_deed", asked, case_id="deed-case")
    assert first["registered"] is True and first["deed_number"]
    assert _call(agencies, "notary/sale_deed", asked, case_id="deed-case") == first
    assert _call(agencies, "notary/sale_deed", asked, case_id="deed-case-2")["deed_number"] != first["deed_number"]


@pytest.mark.parametrize("operation_id, params, code", [
    ("vehicle_registry/vehicle_by_plate", {"plate": "12 ح 345 ایران 67"}, "agency-rejected"),
    ("traffic_fines/unpaid_fines", {"plate": "not a plate"}, "agency-rejected"),
    ("vehicle_registry/vehicle_by_vin", {"vin": "WVWZZZ1JZXW000001"}, "not-found"),
])
def test_refusals_are_not_retried(agencies: str, operation_id: str, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        _call(agencies, operation_id, params)
    assert caught.value.code == code and caught.value.retryable is False
