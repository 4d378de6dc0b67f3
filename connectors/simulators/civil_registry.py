"""Civil registry (ثبت احوال): a person by national code.

``GET /persons/{national_code}`` -> 200::

    {"national_code": "0013542419", "first_name": "علی", "last_name": "رضایی", "father_name": "حسن",
     "birth_date": "1365/04/12", "gender": "male", "alive": true}

``gender`` is ``male`` or ``female``; ``birth_date`` is Jalali ``YYYY/MM/DD``. The code must be 10 ASCII
digits exactly as stored (the connector canonicalises what the citizen typed). Otherwise 404::

    {"error": "invalid-national-code", "detail": "...", "reason": "length" | "checksum"}
    {"error": "not-found", "detail": "..."}     # valid code, not in the registry (0061234567)

Any other valid code gives a generated living adult, drawn from the code (see `data.Draw`).
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.data import FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES, Draw
from forms.identifiers import check_national_code


class Person(BaseModel):
    national_code: str
    first_name: str
    last_name: str
    father_name: str
    birth_date: str
    gender: Literal["male", "female"]
    alive: bool
    postal_code: str = Field(description="postal code of the registered residence")


DEMO_PEOPLE = {
    person.national_code: person
    for person in (
        # The demo citizen: a living adult who owns mobile 09121234567 and manages company 10380284790.
        Person(national_code="0013542419", first_name="علی", last_name="رضایی", father_name="حسن",
               birth_date="1365/04/12", gender="male", alive=True, postal_code="1193653471"),
        Person(national_code="9876543210", first_name="مریم", last_name="حسینی", father_name="محمود",
               birth_date="1370/11/03", gender="female", alive=True, postal_code="8175913465"),
        Person(national_code="2720123455", first_name="محمود", last_name="کریمی", father_name="اسماعیل",
               birth_date="1310/02/20", gender="male", alive=False, postal_code="1193653471"),
        Person(national_code="3678123457", first_name="نازنین", last_name="احمدی", father_name="رضا",
               birth_date="1396/02/15", gender="female", alive=True, postal_code="8175913465"),
    )
}
# Valid by checksum, yet never issued: the registry's "no such person".
NOT_REGISTERED = frozenset({"0061234567"})


def find_person(national_code: str) -> Person | None:
    """The registry's record for a valid code, or None when the registry has no such person."""
    if national_code in NOT_REGISTERED or check_national_code(national_code) is not None:
        return None
    if national_code in DEMO_PEOPLE:
        return DEMO_PEOPLE[national_code]
    draw = Draw("civil-registry", national_code)
    gender: Literal["male", "female"] = "female" if draw.chance(1, 2) else "male"
    return Person(
        national_code=national_code,
        first_name=draw.pick(FEMALE_FIRST_NAMES if gender == "female" else MALE_FIRST_NAMES),
        last_name=draw.pick(LAST_NAMES),
        father_name=draw.pick(MALE_FIRST_NAMES),
        birth_date=draw.jalali_date(1330, 1384),
        gender=gender,
        alive=True,
        postal_code=_residence(draw),
    )


def _residence(draw: Draw) -> str:
    # Postal codes never use 0 or 2 in their first five digits (handwritten they pass for 5 and 3).
    allowed = "13456789"
    head = "".join(draw.pick(allowed) for _ in range(5))
    return head + "".join(str(draw.below(10)) for _ in range(5)).replace("00000", "12345")


def require_valid(national_code: str) -> None:
    """Refuse a malformed code the way this registry does (404, reason in the body)."""
    reason = check_national_code(national_code)
    if reason is not None:
        raise AgencyError(404, "invalid-national-code", "not a valid national code", reason=reason)


def build() -> FastAPI:
    app = new_agency_app("Civil registry (sandbox)", __doc__ or "")

    @app.get("/persons/{national_code}")
    async def person(national_code: str) -> Person:
        """A person by national code."""
        require_valid(national_code)
        found = find_person(national_code)
        if found is None:
            raise AgencyError(404, "not-found", "no person with this national code")
        return found

    return app
