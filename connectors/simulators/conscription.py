"""Conscription organisation (سازمان وظیفه عمومی): military-service status (وضعیت نظام وظیفه).

``GET /service-status/{national_code}`` -> 200::

    {"national_code": "0013542419", "status": "completed", "card_number": "5012345678",
     "gender": "male", "birth_date": "1365/04/12"}

``status`` is ``completed`` (کارت پایان خدمت), ``exempt`` (کارت معافیت), ``serving`` (در حال خدمت),
``absent`` (غایب: did not report when called) or ``not_applicable``: women, and men under 18 on the day
asked. ``card_number`` is set only for ``completed`` and ``exempt``. Sex and birth date are the civil
registry's, so the two agencies agree. 404 bodies as the civil registry's (``invalid-national-code``,
``not-found``).

Fixed (men of service age): ``0013542419`` and ``0790419904`` completed; ``0040010155`` absent;
``0040010244`` serving; ``0040010309`` exempt. Women (``0499370899``, ``9876543210``) and the child
``3678123457`` are not applicable. Other men of 18 or more are drawn from the code: completed 6 in 10,
exempt 2, serving 1 (only under 30, else completed), absent 1.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import FastAPI
from persiantools.jdatetime import JalaliDate
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.civil_registry import find_person, require_valid
from connectors.simulators.data import Draw
from forms.dates import today_in_iran

Status = Literal["completed", "exempt", "serving", "absent", "not_applicable"]
SERVICE_AGE = 18


class ServiceStatus(BaseModel):
    national_code: str
    status: Status
    card_number: str | None
    gender: Literal["male", "female"]
    birth_date: str


DEMO_STATUSES: dict[str, Status] = {
    "0013542419": "completed",
    "0790419904": "completed",
    "0040010155": "absent",
    "0040010244": "serving",
    "0040010309": "exempt",
}


def age_on(birth_date: str, day: date) -> int:
    """Whole years from a Jalali ``YYYY/MM/DD`` birth date to `day`, counted in the Jalali calendar."""
    today = JalaliDate.to_jalali(day)  # type: ignore[no-untyped-call]
    year, month, dom = (int(part) for part in birth_date.split("/"))
    return int(today.year) - year - ((int(today.month), int(today.day)) < (month, dom))


def find_status(national_code: str, day: date | None = None) -> ServiceStatus | None:
    """The status of a person the civil registry knows, as of `day` (today in Iran), else None."""
    person = find_person(national_code)
    if person is None:
        return None
    age = age_on(person.birth_date, day or today_in_iran())
    draw = Draw("conscription", national_code)
    card = f"50{draw.below(10**8):08d}"
    status: Status
    if person.gender == "female" or age < SERVICE_AGE:
        status = "not_applicable"
    elif national_code in DEMO_STATUSES:
        status = DEMO_STATUSES[national_code]
    else:
        roll = draw.below(10)
        status = ("completed" if roll < 6 else "exempt" if roll < 8
                  else "serving" if roll < 9 and age < 30 else "completed" if roll < 9 else "absent")
    return ServiceStatus(national_code=national_code, status=status,
                         card_number=card if status in ("completed", "exempt") else None,
                         gender=person.gender, birth_date=person.birth_date)


def build() -> FastAPI:
    app = new_agency_app("Conscription organisation (sandbox)", __doc__ or "")

    @app.get("/service-status/{national_code}")
    async def service_status(national_code: str) -> ServiceStatus:
        """Military-service status by national code."""
        require_valid(national_code)
        found = find_status(national_code)
        if found is None:
            raise AgencyError(404, "not-found", "no person with this national code")
        return found

    return app
