"""Business registry (ثبت شرکت‌ها): a company by its 11-digit legal-entity national ID.

``GET /companies/{legal_id}`` -> 200::

    {"legal_id": "10380284790", "name": "شرکت فناوری اطلاعات پنجره نوین (سهامی خاص)",
     "registered_at": "1395/06/20", "status": "active",
     "managers": [{"national_code": "0013542419", "name": "علی رضایی", "role": "مدیرعامل"}, ...]}

``status`` is ``active`` or ``dissolved``; ``registered_at`` is Jalali ``YYYY/MM/DD``; ``role`` is one of
مدیرعامل (CEO), رئیس هیئت مدیره (chair), عضو هیئت مدیره (board member). Managers' names are the
civil registry's, so the two agencies agree. 404 bodies::

    {"error": "invalid-legal-id", "detail": "...", "reason": "length" | "checksum"}
    {"error": "not-found", "detail": "..."}   # valid ID, not registered (14009999995)

Fixed: ``10380284790`` active, managed by the demo citizen; ``10100654321`` dissolved. Other valid IDs
give a generated company, dissolved 1 time in 8.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.civil_registry import find_person
from connectors.simulators.data import COMPANY_BRANDS, COMPANY_FORMS, COMPANY_SECTORS, Draw
from forms.identifiers import check_legal_id

CEO, CHAIR, MEMBER = "مدیرعامل", "رئیس هیئت مدیره", "عضو هیئت مدیره"


class Manager(BaseModel):
    national_code: str
    name: str
    role: str


class Company(BaseModel):
    legal_id: str
    name: str
    registered_at: str
    status: Literal["active", "dissolved"]
    managers: list[Manager]


def _manager(national_code: str, role: str) -> Manager:
    person = find_person(national_code)
    assert person is not None, "managers are drawn from codes the civil registry knows"
    return Manager(national_code=national_code, name=f"{person.first_name} {person.last_name}", role=role)


def _demo_companies() -> dict[str, Company]:
    companies = (
        Company(legal_id="10380284790", name="شرکت فناوری اطلاعات پنجره نوین (سهامی خاص)",
                registered_at="1395/06/20", status="active",
                managers=[_manager("0013542419", CEO), _manager("9876543210", CHAIR)]),
        Company(legal_id="10100654321", name="شرکت بازرگانی آریا سپهر (با مسئولیت محدود)",
                registered_at="1382/09/14", status="dissolved", managers=[_manager("1234567891", CEO)]),
    )
    return {company.legal_id: company for company in companies}


DEMO_COMPANIES = _demo_companies()
NOT_REGISTERED = frozenset({"14009999995"})


def find_company(legal_id: str) -> Company | None:
    """The registry's record for a valid legal ID, or None when no company has it."""
    if legal_id in NOT_REGISTERED or check_legal_id(legal_id) is not None:
        return None
    if legal_id in DEMO_COMPANIES:
        return DEMO_COMPANIES[legal_id]
    draw = Draw("business-registry", legal_id)
    name = f"شرکت {draw.pick(COMPANY_SECTORS)} {draw.pick(COMPANY_BRANDS)} {draw.pick(COMPANY_BRANDS)}"
    roles = [CEO, CHAIR, MEMBER][: draw.between(1, 3)]
    return Company(
        legal_id=legal_id,
        name=f"{name} ({draw.pick(COMPANY_FORMS)})",
        registered_at=draw.jalali_date(1370, 1402),
        status="dissolved" if draw.chance(1, 8) else "active",
        managers=[_manager(_registered_code(draw), role) for role in roles],
    )


def _registered_code(draw: Draw) -> str:
    while True:
        code = draw.national_code()
        if find_person(code) is not None:
            return code


def build() -> FastAPI:
    app = new_agency_app("Business registry (sandbox)", __doc__ or "")

    @app.get("/companies/{legal_id}")
    async def company(legal_id: str) -> Company:
        """A company by legal-entity national ID."""
        reason = check_legal_id(legal_id)
        if reason is not None:
            raise AgencyError(404, "invalid-legal-id", "not a valid legal-entity national ID", reason=reason)
        found = find_company(legal_id)
        if found is None:
            raise AgencyError(404, "not-found", "no company with this legal-entity ID")
        return found

    return app
