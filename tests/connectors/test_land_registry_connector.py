"""The deeds registry connector against the simulated registry, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.sdk import ConnectorError
from tests.connectors.building_agencies import call


def test_the_demo_citizens_deed_by_owner_and_by_number(agencies: str) -> None:
    owned = call(agencies, "land_registry/deeds_by_owner", {"national_code": "0013542419"})
    [deed] = owned["deeds"]
    assert (deed["plate"], deed["area_m2"], deed["permit_blocked"]) == ("7-4521-123", 240, False)
    assert deed["owners"] == [{"national_code": "0013542419", "name": "علی رضایی", "share": 6}]
    assert call(agencies, "land_registry/deed_by_number", {"deed_number": deed["deed_number"]}) == deed


def test_a_seized_deed_blocks_the_permit(agencies: str) -> None:
    [deed] = call(agencies, "land_registry/deeds_by_owner", {"national_code": "0040030008"})["deeds"]
    assert deed["permit_blocked"] is True and deed["encumbrances"][0]["kind"] == "seizure"


@pytest.mark.parametrize(("operation_id", "params", "code"), [
    ("land_registry/deeds_by_owner", {"national_code": "0061234567"}, "not-found"),
    ("land_registry/deed_by_number", {"deed_number": "174729166401"}, "not-found"),
])
def test_unknown_records_are_not_found(agencies: str, operation_id: str, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        call(agencies, operation_id, params)
    assert caught.value.code == code and caught.value.retryable is False


def test_malformed_parameters_never_reach_the_registry(agencies: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        call(agencies, "land_registry/deed_by_number", {"deed_number": "12/34"})
    assert caught.value.retryable is False
