"""Municipal vehicle tax (عوارض سالیانه خودرو): what a plate owes the municipality.

``GET /vehicle-tax?plate=12 ب 345 ایران 67`` -> 200::

    {"plate": "12 ب 345 ایران 67", "unpaid_years": [], "unpaid_rial": 0,
     "clearance_number": "MT-12345678"}

``unpaid_years`` are Jalali years whose annual toll is unpaid; ``clearance_number`` identifies the
answer as the toll clearance (مفاصاحساب عوارض) it replaces, null while something is unpaid. A plate
that is not one is 422 ``{"error": "invalid-plate", ...}``.

Fixed: ``55 ص 444 ایران 40`` owes 1403 and 1404; the other demo plates of `vehicle_registry` owe
nothing. Any other plate owes one or more years 1 time in 5, drawn from the plate (`data.Draw`).
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import new_agency_app
from connectors.simulators.data import Draw
from connectors.simulators.vehicle_registry import DEMO_OWNERS, UNPAID_TAX_PLATE, valid_plate

YEARLY_RIAL = 1_200_000


class TaxStatement(BaseModel):
    plate: str
    unpaid_years: list[int]
    unpaid_rial: int
    clearance_number: str | None


def statement(plate: str) -> TaxStatement:
    """The unpaid annual tolls of a valid plate."""
    draw = Draw("vehicle_tax", plate)
    number = f"MT-{draw.below(10**8):08d}"
    if plate == UNPAID_TAX_PLATE:
        years = [1403, 1404]
    elif plate in DEMO_OWNERS or not draw.chance(1, 5):
        years = []
    else:
        years = list(range(1405 - draw.between(1, 3), 1405))
    return TaxStatement(plate=plate, unpaid_years=years, unpaid_rial=YEARLY_RIAL * len(years),
                        clearance_number=None if years else number)


def build() -> FastAPI:
    app = new_agency_app("Municipal vehicle tax (sandbox)", __doc__ or "")

    @app.get("/vehicle-tax")
    async def vehicle_tax(plate: str) -> TaxStatement:
        """What a plate owes in annual municipal tolls, or its clearance."""
        return statement(valid_plate(plate[:64]))

    return app
