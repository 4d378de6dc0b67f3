"""Construction engineering organisation (سازمان نظام مهندسی ساختمان): an engineer's licence.

``GET /members/{membership_number}`` with the membership number as province-discipline-serial
(``01-10-12345``) -> 200::

    {"membership_number": "01-10-12345", "name": "مهندس سارا کریمی", "discipline": "architecture",
     "grade": "1", "max_floors": 99, "valid_until": "1407/06/30", "status": "active"}

``discipline`` is ``architecture``, ``civil``, ``mechanical`` or ``electrical``; ``grade`` the
licence grade (پایه) ``3``, ``2``, ``1`` or ``senior`` (ارشد), which caps the floors the engineer may
design: 4, 7, 12 and 99. ``status`` is ``active``, ``suspended`` (by the disciplinary board) or
``expired`` (``valid_until`` has passed). 404 bodies::

    {"error": "invalid-membership-number", "detail": "..."}
    {"error": "not-found", "detail": "..."}   # serial 00000 is never issued (01-10-00000)

Fixed: ``01-10-12345`` an active senior architect; ``01-10-24680`` an active architect of grade 3;
``01-10-54321`` a suspended architect; ``01-10-11111`` an expired one. Other numbers are drawn
from the number: suspended 1 time in 20, expired 1 time in 10.
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.data import FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES, Draw

Discipline = Literal["architecture", "civil", "mechanical", "electrical"]
Grade = Literal["3", "2", "1", "senior"]
Status = Literal["active", "suspended", "expired"]
MEMBERSHIP = re.compile(r"^[0-9]{2}-[0-9]{2}-[0-9]{5}$")
MAX_FLOORS: dict[Grade, int] = {"3": 4, "2": 7, "1": 12, "senior": 99}
DEMO_MEMBERS: dict[str, tuple[str, Discipline, Grade, str, Status]] = {
    "01-10-12345": ("مهندس سارا کریمی", "architecture", "senior", "1408/06/30", "active"),
    "01-10-24680": ("مهندس بهرام نوری", "architecture", "3", "1406/12/29", "active"),
    "01-10-54321": ("مهندس حمید طاهری", "architecture", "1", "1407/03/31", "suspended"),
    "01-10-11111": ("مهندس لیلا شریفی", "architecture", "2", "1401/09/30", "expired"),
}


class Member(BaseModel):
    membership_number: str
    name: str
    discipline: Discipline
    grade: Grade
    max_floors: int
    valid_until: str
    status: Status


def find_member(number: str) -> Member | None:
    """The licence of an issued membership number, else None."""
    if MEMBERSHIP.fullmatch(number) is None or number.endswith("00000"):
        return None
    if number in DEMO_MEMBERS:
        name, discipline, grade, valid_until, status = DEMO_MEMBERS[number]
    else:
        draw = Draw("engineering-org", number)
        first = draw.pick(FEMALE_FIRST_NAMES if draw.chance(1, 2) else MALE_FIRST_NAMES)
        name = f"مهندس {first} {draw.pick(LAST_NAMES)}"
        discipline = draw.pick(("architecture", "architecture", "civil", "mechanical", "electrical"))
        grade = draw.pick(("3", "2", "2", "1", "senior"))
        status = "suspended" if draw.chance(1, 20) else "expired" if draw.chance(1, 10) else "active"
        valid_until = draw.jalali_date(1398, 1403) if status == "expired" else draw.jalali_date(1406, 1409)
    return Member(membership_number=number, name=name, discipline=discipline, grade=grade,
                  max_floors=MAX_FLOORS[grade], valid_until=valid_until, status=status)


def build() -> FastAPI:
    app = new_agency_app("Construction engineering organisation (sandbox)", __doc__ or "")

    @app.get("/members/{membership_number}")
    async def member(membership_number: str) -> Member:
        """An engineer's licence by membership number."""
        if MEMBERSHIP.fullmatch(membership_number) is None:
            raise AgencyError(404, "invalid-membership-number", "a membership number looks like 01-10-12345")
        found = find_member(membership_number)
        if found is None:
            raise AgencyError(404, "not-found", "no engineer with this membership number")
        return found

    return app
