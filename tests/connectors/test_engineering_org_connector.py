"""The engineering organisation's connector against the simulated register, over real HTTP."""

from __future__ import annotations

import pytest

from connectors.sdk import ConnectorError
from tests.connectors.building_agencies import call


@pytest.mark.parametrize(("number", "status", "max_floors"), [
    ("01-10-12345", "active", 99), ("01-10-24680", "active", 4), ("01-10-54321", "suspended", 12),
    ("01-10-11111", "expired", 7),
])
def test_licences(agencies: str, number: str, status: str, max_floors: int) -> None:
    found = call(agencies, "engineering_org/member_licence", {"membership_number": number})
    assert (found["status"], found["max_floors"], found["discipline"]) == (status, max_floors, "architecture")


def test_an_unissued_number_is_not_found(agencies: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        call(agencies, "engineering_org/member_licence", {"membership_number": "01-10-00000"})
    assert caught.value.code == "not-found" and caught.value.retryable is False
