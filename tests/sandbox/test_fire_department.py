"""The fire department's plan review over real HTTP: the answer follows from the figures alone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


def _review(client: httpx.Client, **plans: Any) -> httpx.Response:
    return client.post("/fire-department/plan-reviews", json={"plate": "3-1187-42", "use": "residential", **plans})


@pytest.mark.parametrize(("floors", "area", "use", "decision", "conditions"), [
    (6, 1200, "residential", "approved", 0),
    (8, 2400, "residential", "conditional", 2),
    (10, 1800, "residential", "conditional", 3),
    (6, 1500, "commercial", "conditional", 1),
    (13, 3000, "residential", "refused", 0),
])
def test_decisions(shared: httpx.Client, floors: int, area: int, use: str, decision: str, conditions: int) -> None:
    response = _review(shared, floors=floors, built_area_m2=area, use=use)
    assert response.status_code == 200
    found = response.json()
    assert (found["decision"], len(found["conditions"])) == (decision, conditions)
    assert bool(found["reasons"]) is (decision == "refused")
    assert _review(shared, floors=floors, built_area_m2=area, use=use).json() == found


@pytest.mark.parametrize("plans", [
    {"floors": 0, "built_area_m2": 100}, {"floors": 3, "built_area_m2": -1}, {"floors": 3},
    {"floors": 3, "built_area_m2": 100, "use": "industrial"}, {"floors": 3, "built_area_m2": 100, "plate": "7"},
])
def test_bad_figures_are_refused(shared: httpx.Client, plans: dict[str, Any]) -> None:
    response = _review(shared, **plans)
    assert response.status_code == 422 and response.json()["error"] == "invalid-request"
