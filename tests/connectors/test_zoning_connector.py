"""The municipality's zoning connector against the simulated detailed plan, over real HTTP."""

from __future__ import annotations

import pytest

from connectors.sdk import ConnectorError
from tests.connectors.building_agencies import call


def test_zoning_of_the_demo_parcel(agencies: str) -> None:
    found = call(agencies, "zoning/parcel_zoning", {"plate": "7-4521-123"})
    assert (found["zone"], found["max_floors"], found["density_percent"], found["setback_m"]) == (
        "residential_medium", 5, 240, 1.5)


def test_a_parcel_outside_the_plan_is_not_found(agencies: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        call(agencies, "zoning/parcel_zoning", {"plate": "0-100-1"})
    assert caught.value.code == "not-found" and caught.value.retryable is False
