"""Deeds registration (سازمان ثبت اسناد و املاک): title deeds (سند مالکیت) by number or by owner.

``GET /deeds/{deed_number}`` -> 200 one deed; ``GET /owners/{national_code}/deeds`` -> 200
``{"national_code": "...", "deeds": [deed, ...]}`` (empty when the person owns no registered land)::

    {"deed_number": "140212345678", "plate": "7-4521-123", "section": 7, "main_plate": 4521, "sub_plate": 123,
     "owners": [{"national_code": "0013542419", "name": "علی رضایی", "share": 6}],
     "area_m2": 240, "use": "residential", "postal_code": "1461843311", "address": "تهران، ...",
     "encumbrances": [{"kind": "seizure", "by": "...", "since": "1402/05/11", "blocks_permit": true}],
     "permit_blocked": false}

``deed_number`` is the single-page deed's 12-digit serial; ``plate`` the registration plate as
section-main-sub (بخش، پلاک اصلی، پلاک فرعی); ``share`` is in dang (دانگ, sixths) and a deed's
shares add up to 6. An encumbrance is a bank ``mortgage`` (رهن), which the registry notes but
which does not stop building, or a court ``seizure`` (بازداشت), which does: ``permit_blocked``
is true when any encumbrance ``blocks_permit``. 404 bodies::

    {"error": "invalid-national-code", "detail": "...", "reason": "length" | "checksum"}
    {"error": "invalid-deed-number", "detail": "..."}
    {"error": "not-found", "detail": "..."}   # unknown person (0061234567) or deed

Fixed: ``0013542419`` owns a clear residential parcel in Tehran (240 m², plate 7-4521-123);
``0499370899`` a mortgaged one in Isfahan that may still be built on; ``0040030008`` a seized one;
``0040030016`` owns nothing; ``0040030024`` a commercial parcel in Tehran. Other people own one
parcel 4 times in 5, mortgaged 1 time in 5 and seized 1 time in 20. Deed numbers are drawn from the
owner's code by an invertible map, so a deed found by its owner is found again by its number.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.civil_registry import find_person, require_valid
from connectors.simulators.data import ALLEYS, REGIONS, STREETS, Draw

Use = Literal["residential", "commercial"]
# Deed number = the owner's code under x -> (x * _SCALE + _SHIFT) mod 10^10, then two digits of
# parcel index. _SCALE is odd and not a multiple of 5, so the map is a bijection and invertible.
_SCALE, _SHIFT, _MOD = 7_919_333, 4_821_605_137, 10**10
_UNSCALE = pow(_SCALE, -1, _MOD)
BANKS = ("بانک مسکن", "بانک ملی ایران", "بانک ملت", "بانک تجارت")


class Owner(BaseModel):
    national_code: str
    name: str
    share: int


class Encumbrance(BaseModel):
    kind: Literal["mortgage", "seizure"]
    by: str
    since: str
    blocks_permit: bool


class Deed(BaseModel):
    deed_number: str
    plate: str
    section: int
    main_plate: int
    sub_plate: int
    owners: list[Owner]
    area_m2: int
    use: Use
    postal_code: str
    address: str
    encumbrances: list[Encumbrance]
    permit_blocked: bool


class OwnedDeeds(BaseModel):
    national_code: str
    deeds: list[Deed]


# national code -> (section, main, sub, area, use, postal code, street, alley, plaque, encumbrance kinds)
_DEMO_PARCELS: dict[str, tuple[int, int, int, int, Use, str, str, str, int, tuple[str, ...]]] = {
    "0013542419": (7, 4521, 123, 240, "residential", "1461843311", "خیابان ولیعصر", "کوچه یاس", 18, ()),
    "0499370899": (3, 1187, 42, 600, "residential", "8173913465", "خیابان حافظ", "کوچه شقایق", 7, ("mortgage",)),
    "0040030008": (11, 2210, 9, 180, "residential", "1983963114", "خیابان شریعتی", "کوچه اول", 31, ("seizure",)),
    "0040030024": (2, 905, 77, 900, "commercial", "1991743515", "بلوار کشاورز", "کوچه دوم", 64, ()),
}
OWNS_NOTHING = frozenset({"0040030016"})


def deed_number_of(national_code: str, index: int = 0) -> str:
    return f"{(int(national_code) * _SCALE + _SHIFT) % _MOD:010d}{index:02d}"


def owner_of(deed_number: str) -> str:
    return f"{((int(deed_number[:10]) - _SHIFT) * _UNSCALE) % _MOD:010d}"


def deeds_of(national_code: str) -> list[Deed] | None:
    """The deeds registered to a person the civil registry knows, else None."""
    person = find_person(national_code)
    if person is None:
        return None
    if national_code in OWNS_NOTHING:
        return []
    draw = Draw("land-registry", national_code)
    owner = Owner(national_code=national_code, name=f"{person.first_name} {person.last_name}", share=6)
    if national_code in _DEMO_PARCELS:
        section, main, sub, area, use, postal, street, alley, plaque, kinds = _DEMO_PARCELS[national_code]
    elif draw.chance(4, 5):
        section, main, sub = draw.between(1, 12), draw.between(100, 9999), draw.between(1, 400)
        area, use = draw.between(12, 120) * 10, "commercial" if draw.chance(1, 6) else "residential"
        postal = person.postal_code
        street, alley, plaque = draw.pick(STREETS), draw.pick(ALLEYS), draw.between(1, 250)
        kinds = ("seizure",) if draw.chance(1, 20) else ("mortgage",) if draw.chance(1, 5) else ()
    else:
        return []
    province, city = REGIONS[postal[0]][0] if national_code in _DEMO_PARCELS else draw.pick(REGIONS[postal[0]])
    encumbrances = [
        Encumbrance(kind="seizure", by="دادگاه عمومی حقوقی", since=draw.jalali_date(1400, 1404), blocks_permit=True)
        if kind == "seizure" else
        Encumbrance(kind="mortgage", by=draw.pick(BANKS), since=draw.jalali_date(1395, 1404), blocks_permit=False)
        for kind in kinds
    ]
    return [Deed(
        deed_number=deed_number_of(national_code), plate=f"{section}-{main}-{sub}", section=section,
        main_plate=main, sub_plate=sub, owners=[owner], area_m2=area, use=use, postal_code=postal,
        address=f"{province}، {city}، {street}، {alley}، پلاک {plaque}",
        encumbrances=encumbrances, permit_blocked=any(e.blocks_permit for e in encumbrances))]


def find_deed(deed_number: str) -> Deed | None:
    """The deed with this number, else None."""
    owned = deeds_of(owner_of(deed_number))
    return next((deed for deed in owned or [] if deed.deed_number == deed_number), None)


def build() -> FastAPI:
    app = new_agency_app("Deeds registration (sandbox)", __doc__ or "")

    @app.get("/owners/{national_code}/deeds")
    async def owned(national_code: str) -> OwnedDeeds:
        """The deeds registered to a person."""
        require_valid(national_code)
        found = deeds_of(national_code)
        if found is None:
            raise AgencyError(404, "not-found", "no person with this national code")
        return OwnedDeeds(national_code=national_code, deeds=found)

    @app.get("/deeds/{deed_number}")
    async def deed(deed_number: str) -> Deed:
        """A deed by its 12-digit number."""
        if len(deed_number) != 12 or not deed_number.isascii() or not deed_number.isdigit():
            raise AgencyError(404, "invalid-deed-number", "a deed number is 12 digits")
        found = find_deed(deed_number)
        if found is None:
            raise AgencyError(404, "not-found", "no deed with this number")
        return found

    return app
