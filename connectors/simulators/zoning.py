"""Municipality zoning (طرح تفصیلی شهرداری): what the detailed plan allows on a parcel.

``GET /parcels/{plate}/zoning`` with the registration plate as section-main-sub (``7-4521-123``) -> 200::

    {"plate": "7-4521-123", "zone": "residential_medium", "zone_code": "R2", "permitted_use": "residential",
     "max_floors": 5, "density_percent": 240, "setback_m": 1.5, "plan": "طرح تفصیلی ..."}

``density_percent`` is the built area allowed as a percentage of the parcel's area (تراکم ساختمانی);
``setback_m`` the strip the owner gives up to widen the street (عقب‌نشینی), 0 when none. Zones and
what they allow: ``residential_low`` (R1) 3 floors, 150%; ``residential_medium`` (R2) 5 floors, 240%;
``residential_high`` (R3) 12 floors, 480%; ``commercial`` (C) 16 floors, 720%. 404 bodies::

    {"error": "invalid-plate", "detail": "..."}
    {"error": "not-found", "detail": "..."}   # section 0 is outside the city's plan (0-100-1)

Fixed: ``7-4521-123`` and ``11-2210-9`` are R2 with a 1.5 m setback, ``3-1187-42`` is R3 and
``2-905-77`` is C. Other plates are drawn from the plate.
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.data import Draw

Zone = Literal["residential_low", "residential_medium", "residential_high", "commercial"]
PLATE = re.compile(r"^([0-9]{1,2})-([0-9]{1,5})-([0-9]{1,5})$")
# zone -> (code, permitted use, max floors, density %)
ZONES: dict[Zone, tuple[str, str, int, int]] = {
    "residential_low": ("R1", "residential", 3, 150),
    "residential_medium": ("R2", "residential", 5, 240),
    "residential_high": ("R3", "residential", 12, 480),
    "commercial": ("C", "commercial", 16, 720),
}
DEMO_ZONES: dict[str, tuple[Zone, float]] = {
    "7-4521-123": ("residential_medium", 1.5),
    "11-2210-9": ("residential_medium", 1.5),
    "3-1187-42": ("residential_high", 0.0),
    "2-905-77": ("commercial", 3.0),
}


class Zoning(BaseModel):
    plate: str
    zone: Zone
    zone_code: str
    permitted_use: str
    max_floors: int
    density_percent: int
    setback_m: float
    plan: str


def find_zoning(plate: str) -> Zoning | None:
    """The detailed plan's rules for a well-formed plate, or None outside the plan."""
    found = PLATE.fullmatch(plate)
    if found is None or int(found.group(1)) == 0:
        return None
    if plate in DEMO_ZONES:
        zone, setback = DEMO_ZONES[plate]
    else:
        draw = Draw("zoning", plate)
        zone = draw.pick(("residential_low", "residential_medium", "residential_medium", "residential_high",
                          "commercial"))
        setback = draw.pick((0.0, 0.0, 1.5, 3.0))
    code, use, floors, density = ZONES[zone]
    return Zoning(plate=plate, zone=zone, zone_code=code, permitted_use=use, max_floors=floors,
                  density_percent=density, setback_m=setback,
                  plan=f"طرح تفصیلی مصوب، بخش ثبتی {int(found.group(1))}")


def build() -> FastAPI:
    app = new_agency_app("Municipality zoning (sandbox)", __doc__ or "")

    @app.get("/parcels/{plate}/zoning")
    async def zoning(plate: str) -> Zoning:
        """The detailed plan's zone for a parcel."""
        if PLATE.fullmatch(plate) is None:
            raise AgencyError(404, "invalid-plate", "a plate is section-main-sub, such as 7-4521-123")
        found = find_zoning(plate)
        if found is None:
            raise AgencyError(404, "not-found", "this parcel is outside the detailed plan")
        return found

    return app
