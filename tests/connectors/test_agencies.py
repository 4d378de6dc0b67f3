"""The built-in agency connectors against the simulated agencies, over real HTTP."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from connectors.call_context import make_context
from connectors.registry import load_registry
from connectors.sdk import ConnectorError
from connectors.simulators.settings import simulated_config

BUILT_IN = ["civil_registry", "mobile_registry", "post", "sms", "mail", "tax", "business_registry", "judiciary",
            "conscription"]
KEYS = {"sms": {"sms_api_key": "sandbox-sms-key"}, "mail": {"mail_api_key": "sandbox-mail-key"}}


def _call(agencies: str, operation_id: str, params: dict[str, Any]) -> dict[str, Any]:
    connector = operation_id.split("/")[0]
    registry = load_registry(allow=BUILT_IN, config=simulated_config(f"{agencies}/sandbox"))
    assert registry.problems == []
    operation = registry.get(operation_id)
    assert operation is not None
    context = make_context(timeout=5, case_id="case-1", purpose="test", end_user="0013542419", attempt=1,
                           idempotency_key=f"test-{operation_id}-{sorted(params.items())}", connector_id=connector,
                           secrets=KEYS.get(connector, {}),
                           logger=logging.getLogger("test"))
    try:
        return operation.call(context, params)
    finally:
        context.http.close()


def test_every_built_in_connector_is_discovered() -> None:
    registry = load_registry(allow=BUILT_IN)
    assert set(registry.connectors) == set(BUILT_IN)
    assert len(registry.operations) == 15


@pytest.mark.parametrize("operation_id, params, expected", [
    ("civil_registry/person_by_national_code", {"national_code": "0013542419"}, {"first_name": "علی"}),
    ("mobile_registry/owns_mobile", {"national_code": "0013542419", "mobile": "09121234567"}, {"match": True}),
    ("post/address_by_postal_code", {"postal_code": "1193653471"}, {"street": "خیابان انقلاب", "plaque": 12}),
    ("tax/taxpayer_status", {"taxpayer_id": "1234567891"}, {"debt_rial": 45_000_000, "clearance": False}),
    ("business_registry/company_by_legal_id", {"legal_id": "10380284790"}, {"status": "active"}),
    ("sms/send", {"to": "09121234567", "text": "test"}, {}),
    ("mail/send", {"to": "Name@Example.ir", "subject": "پنجره", "text": "test"}, {}),
    ("judiciary/criminal_record", {"national_code": "0013542419"}, {"has_record": False, "category": "none"}),
    ("judiciary/criminal_record", {"national_code": "0040010007"}, {"category": "financial", "disqualifies": True}),
    ("judiciary/criminal_record", {"national_code": "0040010082"}, {"category": "violent", "disqualifies": True}),
    ("conscription/service_status", {"national_code": "0013542419"}, {"status": "completed"}),
    ("conscription/service_status", {"national_code": "0040010309"}, {"status": "exempt"}),
    ("conscription/service_status", {"national_code": "0040010244"}, {"status": "serving", "card_number": None}),
    ("conscription/service_status", {"national_code": "0040010155"}, {"status": "absent", "card_number": None}),
    ("conscription/service_status", {"national_code": "0499370899"}, {"status": "not_applicable"}),
])
def test_operation_answers(agencies: str, operation_id: str, params: dict[str, Any],
                           expected: dict[str, Any]) -> None:
    result = _call(agencies, operation_id, params)
    assert {key: result[key] for key in expected} == expected


@pytest.mark.parametrize("operation_id, params", [
    ("civil_registry/person_by_national_code", {"national_code": "0061234567"}),
    ("post/address_by_postal_code", {"postal_code": "1315700000"}),
    ("business_registry/company_by_legal_id", {"legal_id": "14009999995"}),
    ("judiciary/criminal_record", {"national_code": "0061234567"}),
    ("conscription/service_status", {"national_code": "0061234567"}),
])
def test_unknown_records_are_not_found(agencies: str, operation_id: str, params: dict[str, Any]) -> None:
    with pytest.raises(ConnectorError) as caught:
        _call(agencies, operation_id, params)
    assert caught.value.code == "not-found" and caught.value.retryable is False
