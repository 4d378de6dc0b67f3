"""Traffic Police fines (خلافی خودرو): the unpaid fines of a plate.

``GET /fines?plate=12 ب 345 ایران 67`` -> 200::

    {"plate": "12 ب 345 ایران 67", "unpaid_count": 0, "unpaid_total_rial": 0, "fines": [],
     "clearance_number": "FN-12345678"}

``fines`` lists at most five unpaid ones, newest first: ``{"date": "1404/03/12", "offence": "...",
"amount_rial": 1500000}``. ``clearance_number`` identifies the answer as the no-fines certificate
(گواهی عدم خلافی) it replaces, and is null while something is unpaid. A plate that is not one is 422
``{"error": "invalid-plate", ...}`` as in the vehicle registry.

Fixed: ``22 ج 111 ایران 10`` owes three fines; the other demo plates of `vehicle_registry` owe
nothing. Any other plate owes something 1 time in 4, drawn from the plate (`data.Draw`).
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import new_agency_app
from connectors.simulators.data import Draw
from connectors.simulators.vehicle_registry import DEMO_OWNERS, FINES_PLATE, valid_plate

OFFENCES = (("سرعت غیرمجاز", 1_500_000), ("عبور از چراغ قرمز", 2_000_000), ("توقف ممنوع", 500_000),
            ("استفاده از تلفن همراه هنگام رانندگی", 1_000_000), ("سبقت غیرمجاز", 2_000_000))


class Fine(BaseModel):
    date: str
    offence: str
    amount_rial: int


class FineStatement(BaseModel):
    plate: str
    unpaid_count: int
    unpaid_total_rial: int
    fines: list[Fine]
    clearance_number: str | None


def statement(plate: str) -> FineStatement:
    """The unpaid fines of a valid plate."""
    draw = Draw("traffic_fines", plate)
    number = f"FN-{draw.below(10**8):08d}"
    if plate == FINES_PLATE:
        count = 3
    elif plate in DEMO_OWNERS or not draw.chance(1, 4):
        count = 0
    else:
        count = draw.between(1, 7)
    fines = []
    for _ in range(count):
        offence, amount = draw.pick(OFFENCES)
        fines.append(Fine(date=draw.jalali_date(1402, 1404), offence=offence, amount_rial=amount))
    fines.sort(key=lambda fine: fine.date, reverse=True)
    return FineStatement(plate=plate, unpaid_count=count, unpaid_total_rial=sum(f.amount_rial for f in fines),
                         fines=fines[:5], clearance_number=None if count else number)


def build() -> FastAPI:
    app = new_agency_app("Traffic Police fines (sandbox)", __doc__ or "")

    @app.get("/fines")
    async def fines(plate: str) -> FineStatement:
        """The unpaid fines of a plate, or its no-fines clearance."""
        return statement(valid_plate(plate[:64]))

    return app
