"""The health ministry connector and the civil registry's birth operations, against the simulated agencies."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from connectors.agencies.civil_registry import CivilRegistry
from connectors.agencies.health_ministry import HealthMinistry
from connectors.call_context import make_context
from connectors.registry import load_registry
from connectors.sdk import ConnectorError
from connectors.simulators.settings import simulated_config
from connectors.testing import check_contract, check_discoverable

CONNECTORS = ["health_ministry", "civil_registry"]


def _call(agencies: str, operation_id: str, params: dict[str, Any], key: str = "") -> dict[str, Any]:
    registry = load_registry(allow=CONNECTORS, config=simulated_config(f"{agencies}/sandbox"))
    assert registry.problems == []
    operation = registry.get(operation_id)
    assert operation is not None
    context = make_context(timeout=5, case_id="case-1", purpose="birth_certificate", end_user="0013542419",
                           attempt=1, idempotency_key=key or f"test-{operation_id}-{sorted(params.items())}",
                           connector_id=operation_id.split("/")[0], secrets={}, logger=logging.getLogger("test"))
    try:
        return operation.call(context, params)
    finally:
        context.http.close()


def test_contracts_and_discovery() -> None:
    assert check_contract(HealthMinistry) == []
    assert check_contract(CivilRegistry) == []
    assert check_discoverable("health_ministry") == []


def test_birth_record_by_either_parent(agencies: str) -> None:
    by_father = _call(agencies, "health_ministry/birth_record_by_parent", {"national_code": "0013542419"})
    by_mother = _call(agencies, "health_ministry/birth_record_by_parent", {"national_code": "9876543210"})
    assert by_father == by_mother
    assert by_father["found"] is True and by_father["newborn_sex"] == "female"
    assert by_father["mother_national_code"] == "9876543210" and by_father["father_national_code"] == "0013542419"


def test_no_birth_record_is_an_answer_not_an_error(agencies: str) -> None:
    record = _call(agencies, "health_ministry/birth_record_by_parent", {"national_code": "0081500025"})
    assert record["found"] is False and record["record_number"] is None


def test_unknown_parent_is_not_found(agencies: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        _call(agencies, "health_ministry/birth_record_by_parent", {"national_code": "0061234567"})
    assert caught.value.code == "not-found" and caught.value.retryable is False


def test_marriage_and_name(agencies: str) -> None:
    marriage = _call(agencies, "civil_registry/marriage_by_national_code", {"national_code": "9876543210"})
    assert marriage["registered"] is True and marriage["spouse_national_code"] == "0013542419"
    refused = _call(agencies, "civil_registry/check_first_name", {"first_name": "ملکه", "sex": "female"})
    assert refused["permitted"] is False and refused["refusal"] == "title" and "ملکه" in refused["reason_fa"]
    assert _call(agencies, "civil_registry/check_first_name", {"first_name": "ستاره", "sex": "female"})["permitted"]


def test_register_birth_twice_gives_the_same_code(agencies: str) -> None:
    params = {"birth_record_number": "555555555555", "mother_national_code": "0081500009",
              "father_national_code": "0081500017", "first_name": "کیان", "last_name": "کاظمی", "sex": "male",
              "birth_date": "1405/08/06"}
    first = _call(agencies, "civil_registry/register_birth", params, key="birth-1")
    second = _call(agencies, "civil_registry/register_birth", params, key="birth-2")
    assert first == second and first["first_name"] == "کیان"
    with pytest.raises(ConnectorError) as caught:
        _call(agencies, "civil_registry/register_birth", {**params, "first_name": "سینا"}, key="birth-3")
    assert caught.value.code == "agency-rejected" and caught.value.retryable is False
