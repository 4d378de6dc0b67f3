"""Tax office (سازمان امور مالیاتی): tax status of a person or a company.

``GET /taxpayers/{id}`` with a 10-digit national code or an 11-digit legal-entity ID -> 200::

    {"id": "10380284790", "kind": "company", "registered": true, "debt_rial": 0, "clearance": true}

``kind`` is ``person`` (10 digits) or ``company`` (11 digits). ``clearance`` (مفاصاحساب) means "owes
nothing": an unregistered person owes nothing, so has clearance too. 404 bodies::

    {"error": "invalid-id", "detail": "...", "reason": "length" | "checksum"}
    {"error": "not-found", "detail": "..."}   # unknown to the civil or business registry

Fixed: ``0013542419`` and ``10380284790`` registered without debt; ``1234567891`` owes 45,000,000 rial;
``3678123457`` (a child) is not registered;
``10100654321`` (dissolved) owes 120,000,000 rial. Others are drawn from the ID: persons registered
3 in 4, companies 7 in 8; a registered taxpayer owes a multiple of 100,000 rial 1 time in 4.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.business_registry import find_company
from connectors.simulators.civil_registry import find_person
from connectors.simulators.data import Draw
from forms.identifiers import check_legal_id, check_national_code


class TaxStatus(BaseModel):
    id: str
    kind: Literal["person", "company"]
    registered: bool
    debt_rial: int
    clearance: bool


# id -> (registered, debt_rial)
DEMO_TAXPAYERS = {
    "0013542419": (True, 0),
    "1234567891": (True, 45_000_000),
    "3678123457": (False, 0),
    "10380284790": (True, 0),
    "10100654321": (True, 120_000_000),
}


def find_taxpayer(taxpayer_id: str) -> TaxStatus | None:
    """The tax status of a valid ID the registries know, else None."""
    kind: Literal["person", "company"] = "company" if len(taxpayer_id) == 11 else "person"
    known = find_company(taxpayer_id) if kind == "company" else find_person(taxpayer_id)
    if known is None:
        return None
    if taxpayer_id in DEMO_TAXPAYERS:
        registered, debt = DEMO_TAXPAYERS[taxpayer_id]
    else:
        draw = Draw("tax", taxpayer_id)
        registered = draw.chance(7, 8) if kind == "company" else draw.chance(3, 4)
        debt = draw.between(1, 5_000) * 100_000 if registered and draw.chance(1, 4) else 0
    return TaxStatus(id=taxpayer_id, kind=kind, registered=registered, debt_rial=debt, clearance=debt == 0)


def build() -> FastAPI:
    app = new_agency_app("Tax office (sandbox)", __doc__ or "")

    @app.get("/taxpayers/{taxpayer_id}")
    async def taxpayer(taxpayer_id: str) -> TaxStatus:
        """Tax status by national code or legal-entity ID."""
        reason = check_legal_id(taxpayer_id) if len(taxpayer_id) == 11 else check_national_code(taxpayer_id)
        if reason is not None:
            raise AgencyError(404, "invalid-id", "not a valid national code or legal-entity ID", reason=reason)
        found = find_taxpayer(taxpayer_id)
        if found is None:
            raise AgencyError(404, "not-found", "no taxpayer with this ID")
        return found

    return app
