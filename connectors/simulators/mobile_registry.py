"""Mobile-ownership check, Shahkar-style (سامانه شاهکار): is this mobile registered to this person?

``POST /ownership`` with ``{"national_code": "0013542419", "mobile": "09121234567"}`` -> 200
``{"match": true}``. Both values in canonical form (10 digits; ``09`` + 9 digits), else 422::

    {"error": "invalid-national-code" | "invalid-mobile", "detail": "...", "reason": "..."}

Who owns what, deterministically:

- ``0013542419`` owns ``09121234567`` and ``9876543210`` owns ``09351234567``, and nothing else;
- a code the civil registry does not know (``0061234567``), or a deceased person (``2720123455``), owns
  nothing;
- any other pair matches 3 times in 4: ``match`` is ``Draw("shahkar", "<code>:<mobile>").chance(3, 4)``
  (SHA-256 of the pair, see `data.Draw`); e.g. ``1234567891`` + ``09122222222`` matches,
  ``1234567891`` + ``09121234567`` does not.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.civil_registry import find_person
from connectors.simulators.data import Draw
from forms.identifiers import check_mobile, check_national_code

DEMO_OWNERS = {"0013542419": "09121234567", "9876543210": "09351234567"}


class OwnershipQuery(BaseModel):
    national_code: str
    mobile: str


class Ownership(BaseModel):
    match: bool


def owns(national_code: str, mobile: str) -> bool:
    """Whether the (valid) mobile is registered to the (valid) national code."""
    if national_code in DEMO_OWNERS:
        return DEMO_OWNERS[national_code] == mobile
    person = find_person(national_code)
    if person is None or not person.alive:
        return False
    return Draw("shahkar", f"{national_code}:{mobile}").chance(3, 4)


def build() -> FastAPI:
    app = new_agency_app("Mobile ownership, Shahkar-style (sandbox)", __doc__ or "")

    @app.post("/ownership")
    async def ownership(query: OwnershipQuery) -> Ownership:
        """Whether a mobile number is registered to a national code."""
        reason = check_national_code(query.national_code)
        if reason is not None:
            raise AgencyError(422, "invalid-national-code", "not a valid national code", reason=reason)
        reason = check_mobile(query.mobile)
        if reason is not None:
            raise AgencyError(422, "invalid-mobile", "not a mobile number in the form 09XXXXXXXXX", reason=reason)
        return Ownership(match=owns(query.national_code, query.mobile))

    return app
