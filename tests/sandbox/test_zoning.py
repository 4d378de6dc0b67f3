"""The municipality's detailed plan over real HTTP: the demo parcels' zones, any plate's, refusals."""

from __future__ import annotations

import httpx
import pytest

from connectors.simulators.zoning import ZONES


@pytest.mark.parametrize(("plate", "zone", "floors", "density"), [
    ("7-4521-123", "residential_medium", 5, 240), ("3-1187-42", "residential_high", 12, 480),
    ("2-905-77", "commercial", 16, 720), ("11-2210-9", "residential_medium", 5, 240),
])
def test_demo_parcels(shared: httpx.Client, plate: str, zone: str, floors: int, density: int) -> None:
    response = shared.get(f"/zoning/parcels/{plate}/zoning")
    assert response.status_code == 200
    found = response.json()
    assert (found["zone"], found["max_floors"], found["density_percent"]) == (zone, floors, density)


@pytest.mark.parametrize("plate", ["1-1-1", "12-99999-400", "5-300-20", "9-4000-7"])
def test_every_plate_follows_its_zone(shared: httpx.Client, plate: str) -> None:
    first = shared.get(f"/zoning/parcels/{plate}/zoning").json()
    assert shared.get(f"/zoning/parcels/{plate}/zoning").json() == first
    code, use, floors, density = ZONES[first["zone"]]
    assert (first["zone_code"], first["permitted_use"], first["max_floors"], first["density_percent"]) == (
        code, use, floors, density)
    assert first["setback_m"] in (0.0, 1.5, 3.0)


@pytest.mark.parametrize(("plate", "error"), [
    ("7-4521", "invalid-plate"), ("x-1-1", "invalid-plate"), ("123-1-1", "invalid-plate"), ("0-100-1", "not-found"),
])
def test_refusals(shared: httpx.Client, plate: str, error: str) -> None:
    response = shared.get(f"/zoning/parcels/{plate}/zoning")
    assert response.status_code == 404 and response.json()["error"] == error
