"""Judiciary (قوه قضاییه): the criminal-record inquiry (استعلام سوء پیشینه) by national code.

``GET /criminal-records/{national_code}`` -> 200::

    {"national_code": "0013542419", "has_record": false, "category": "none",
     "certificate_number": "1405-0000-0000-0000", "disqualifies": false}

``category`` is what a trade licence looks at: ``none`` (clean), ``financial`` (fraud, bounced-cheque
or embezzlement convictions) or ``violent``; both are an "effective" record (سوء پیشینه مؤثر) that
``disqualifies`` an applicant for a business licence. ``certificate_number`` identifies the answer as
the certificate (گواهی عدم سوء پیشینه) the citizen used to fetch on paper. 404 bodies::

    {"error": "invalid-national-code", "detail": "...", "reason": "length" | "checksum"}
    {"error": "not-found", "detail": "..."}   # unknown to the civil registry (0061234567)

``GET /exit-bans/{national_code}`` -> 200, the exit-ban inquiry (استعلام ممنوع‌الخروجی) a passport needs::

    {"national_code": "0040010449", "banned": true, "authority": "financial-judgment",
     "reference": "9909-..."}

``authority`` says who ordered the ban (``financial-judgment``: a court, for an unpaid judgment debt;
``prosecutor``: a prosecutor, for a case under investigation) and is null with ``reference`` when there
is none. Fixed: ``0040010449`` banned for a financial judgment, ``0040010082`` by a prosecutor; the
other fixed people below are not banned; others are banned 1 time in 25.

Criminal records fixed: ``0013542419``, ``0499370899``, ``0790419904``, ``9876543210`` and ``3678123457`` are clean;
``0040010007`` has a financial record; ``0040010082`` a violent one. Others are drawn from the code:
a record 1 time in 10, financial 2 times in 3 of those.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.civil_registry import find_person, require_valid
from connectors.simulators.data import Draw

Category = Literal["none", "financial", "violent"]


class CriminalRecord(BaseModel):
    national_code: str
    has_record: bool
    category: Category
    certificate_number: str
    disqualifies: bool


DEMO_RECORDS: dict[str, Category] = {
    "0013542419": "none",
    "0499370899": "none",
    "0790419904": "none",
    "9876543210": "none",
    "3678123457": "none",
    "0040010007": "financial",
    "0040010082": "violent",
}


def find_record(national_code: str) -> CriminalRecord | None:
    """The record of a person the civil registry knows, else None."""
    if find_person(national_code) is None:
        return None
    draw = Draw("judiciary", national_code)
    # Drawn first, whatever the category, so a fixed answer keeps the same certificate number.
    serial = f"{draw.below(10**12):012d}"
    certificate = f"1405-{serial[:4]}-{serial[4:8]}-{serial[8:]}"
    category: Category
    if national_code in DEMO_RECORDS:
        category = DEMO_RECORDS[national_code]
    elif draw.chance(1, 10):
        category = "financial" if draw.chance(2, 3) else "violent"
    else:
        category = "none"
    return CriminalRecord(national_code=national_code, has_record=category != "none", category=category,
                          certificate_number=certificate, disqualifies=category != "none")


Authority = Literal["financial-judgment", "prosecutor"]


class ExitBan(BaseModel):
    national_code: str
    banned: bool
    authority: Authority | None
    reference: str | None


DEMO_BANS: dict[str, Authority | None] = {
    **dict.fromkeys(("0013542419", "0499370899", "0790419904", "9876543210", "3678123457", "0040010007",
                     "0040010155", "0040010244", "0040010309")),
    "0040010449": "financial-judgment",
    "0040010082": "prosecutor",
}


def find_exit_ban(national_code: str) -> ExitBan | None:
    """Whether a person the civil registry knows may not leave the country, else None."""
    if find_person(national_code) is None:
        return None
    draw = Draw("judiciary-exit-ban", national_code)
    reference = f"9909-{draw.below(10**10):010d}"
    authority: Authority | None
    if national_code in DEMO_BANS:
        authority = DEMO_BANS[national_code]
    else:
        authority = ("financial-judgment" if draw.chance(1, 2) else "prosecutor") if draw.chance(1, 25) else None
    return ExitBan(national_code=national_code, banned=authority is not None, authority=authority,
                   reference=reference if authority else None)


def build() -> FastAPI:
    app = new_agency_app("Judiciary criminal-record inquiry (sandbox)", __doc__ or "")

    @app.get("/criminal-records/{national_code}")
    async def criminal_record(national_code: str) -> CriminalRecord:
        """Whether a person has an effective criminal record, as a certificate."""
        require_valid(national_code)
        found = find_record(national_code)
        if found is None:
            raise AgencyError(404, "not-found", "no person with this national code")
        return found

    @app.get("/exit-bans/{national_code}")
    async def exit_ban(national_code: str) -> ExitBan:
        """Whether a person is banned from leaving the country."""
        require_valid(national_code)
        found = find_exit_ban(national_code)
        if found is None:
            raise AgencyError(404, "not-found", "no person with this national code")
        return found

    return app
