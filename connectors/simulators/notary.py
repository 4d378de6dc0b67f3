"""Notary office (دفتر اسناد رسمی): the final sale deed (سند قطعی) of a vehicle, drawn up and registered.

``POST /deeds`` with::

    {"case_id": "…", "plate": "12 ب 345 ایران 67", "vin": "NAA10112345679800",
     "seller_national_code": "9876543210", "buyer_national_code": "0013542419"}

-> 201 ``{"deed_number": "1405-123456", "registered": true, "case_id": "…", ...the request}``. One deed
per case: the same case sent again gets its deed back (200), whatever ``Idempotency-Key`` it carries,
so a retried call never registers a second sale; the same case with other parties or another vehicle
is 409 ``{"error": "case-conflict", ...}``. The seller and buyer must be different valid national
codes (422 ``invalid-party``), and the plate one the registry knows (422 ``invalid-plate``).

``GET /deeds/{deed_number}`` -> 200 the deed, 404 ``not-found`` otherwise.
"""

from __future__ import annotations

from fastapi import FastAPI, Response
from pydantic import BaseModel, Field

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.behaviour import ServiceState
from connectors.simulators.data import Draw
from connectors.simulators.vehicle_registry import valid_plate
from forms.identifiers import check_national_code


class DeedRequest(BaseModel):
    case_id: str = Field(min_length=1, max_length=100)
    plate: str = Field(max_length=64)
    vin: str = Field(max_length=32)
    seller_national_code: str = Field(max_length=10)
    buyer_national_code: str = Field(max_length=10)


class Deed(DeedRequest):
    deed_number: str
    registered: bool


def build(state: ServiceState) -> FastAPI:
    app = new_agency_app("Notary office, vehicle sale deeds (sandbox)", __doc__ or "")
    by_case: dict[str, Deed] = {}
    by_number: dict[str, Deed] = {}

    @app.post("/deeds", status_code=201)
    async def draw_up(request: DeedRequest, response: Response) -> Deed:
        """Draw up and register the final sale deed of a case's vehicle (once per case)."""
        plate = valid_plate(request.plate)
        parties = (request.seller_national_code, request.buyer_national_code)
        if any(check_national_code(code) is not None for code in parties) or parties[0] == parties[1]:
            raise AgencyError(422, "invalid-party", "the seller and the buyer must be two valid national codes")
        wanted = request.model_copy(update={"plate": plate})
        found = by_case.get(request.case_id)
        if found is not None:
            if DeedRequest.model_validate(found.model_dump(exclude={"deed_number", "registered"})) != wanted:
                raise AgencyError(409, "case-conflict", "this case's deed was drawn up for another sale")
            response.status_code = 200
            return found
        state.side_effects += 1
        serial = Draw("notary", request.case_id).below(10**6)
        deed = Deed(**wanted.model_dump(), deed_number=f"1405-{serial:06d}", registered=True)
        by_case[request.case_id] = by_number[deed.deed_number] = deed
        return deed

    @app.get("/deeds/{deed_number}")
    async def deed(deed_number: str) -> Deed:
        """A registered deed by its number."""
        found = by_number.get(deed_number)
        if found is None:
            raise AgencyError(404, "not-found", "no deed with this number")
        return found

    return app
