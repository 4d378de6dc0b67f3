"""The fire department's connector against the simulated plan review, over real HTTP."""

from __future__ import annotations

import pytest

from connectors.sdk import ConnectorError
from tests.connectors.building_agencies import call


@pytest.mark.parametrize(("floors", "area", "decision"), [
    (6, 1200, "approved"), (8, 2400, "conditional"), (14, 5000, "refused"),
])
def test_reviews(agencies: str, floors: int, area: int, decision: str) -> None:
    found = call(agencies, "fire_department/plan_review",
                 {"plate": "3-1187-42", "floors": floors, "built_area_m2": area, "use": "residential"})
    assert found["decision"] == decision
    assert found["review_number"] == f"FD-3-1187-42-{floors}-{area}"


def test_plans_the_department_cannot_read_are_refused_before_asking(agencies: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        call(agencies, "fire_department/plan_review",
             {"plate": "3-1187-42", "floors": 0, "built_area_m2": 100, "use": "residential"})
    assert caught.value.retryable is False
