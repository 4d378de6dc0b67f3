"""Vehicle registry (سامانه خودرو پلیس راهور): a vehicle by its plate or its VIN, with its owner.

``GET /vehicles?plate=12 ب 345 ایران 67`` (or ``?vin=NAA10112345679800``) -> 200::

    {"plate": "12 ب 345 ایران 67", "vin": "NAA10112345679800", "kind": "car", "make": "ایران خودرو",
     "model": "پژو ۲۰۶", "year": 1398, "colour": "سفید", "owner_national_code": "9876543210",
     "owner_name": "مریم حسینی", "seized": false, "seizure": null}

The plate is what `forms.identifiers.canonical_vehicle_plate` stores (any digits and spacing are
accepted and canonicalised here too). ``kind`` is ``car``, ``motorcycle`` or ``heavy``; ``year`` is
the Jalali model year; ``seizure`` names the order (توقیف) when ``seized``. Errors (422 / 404)::

    {"error": "invalid-plate", "detail": "...", "reason": "shape" | "letter"}
    {"error": "invalid-vin", "detail": "..."}
    {"error": "not-found", "detail": "..."}    # a VIN no registered vehicle has

Every valid plate is a registered vehicle drawn from the plate (see `data.Draw`), owned by a person
the civil registry knows; its VIN encodes the plate, so a VIN lookup finds the same vehicle. Fixed:

- ``12 ب 345 ایران 67``: a 1398 Peugeot 206 owned by ``9876543210`` (the demo seller), clear of
  fines, tax and with valid insurance;
- ``22 ج 111 ایران 10`` has unpaid fines (`traffic_fines`), ``33 د 222 ایران 20`` expired insurance
  (`insurer`), ``55 ص 444 ایران 40`` unpaid municipal tax (`vehicle_tax`), all owned by ``9876543210``;
- ``44 س 333 ایران 30`` is seized by a court order;
- ``66 ط 555 ایران 50`` is owned by the demo citizen ``0013542419``.
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.civil_registry import find_person
from connectors.simulators.data import Draw
from forms.identifiers import PLATE_LETTERS, canonical_vehicle_plate, check_vehicle_plate

Kind = Literal["car", "motorcycle", "heavy"]

DEMO_SELLER = "9876543210"
DEMO_PLATE = "12 ب 345 ایران 67"
FINES_PLATE = "22 ج 111 ایران 10"
EXPIRED_INSURANCE_PLATE = "33 د 222 ایران 20"
SEIZED_PLATE = "44 س 333 ایران 30"
UNPAID_TAX_PLATE = "55 ص 444 ایران 40"
BUYERS_OWN_PLATE = "66 ط 555 ایران 50"
DEMO_OWNERS = {DEMO_PLATE: DEMO_SELLER, FINES_PLATE: DEMO_SELLER, EXPIRED_INSURANCE_PLATE: DEMO_SELLER,
               UNPAID_TAX_PLATE: DEMO_SELLER, SEIZED_PLATE: DEMO_SELLER, BUYERS_OWN_PLATE: "0013542419"}

# (make, model, VIN maker letter) per kind; a sandbox list, not a catalogue.
MODELS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "car": (("ایران خودرو", "پژو ۲۰۶", "A"), ("ایران خودرو", "سمند", "A"), ("ایران خودرو", "دنا", "A"),
            ("سایپا", "پراید ۱۳۱", "S"), ("سایپا", "تیبا", "S"), ("سایپا", "کوییک", "S")),
    "motorcycle": (("هوندا", "CG ۱۲۵", "H"), ("باجاج", "پالس ۱۸۰", "B")),
    "heavy": (("ایسوزو", "NPR", "Z"), ("بنز", "آکسور", "M")),
}
COLOURS = ("سفید", "مشکی", "نقره‌ای", "خاکستری", "آبی", "قرمز")
_LETTERS = sorted(PLATE_LETTERS)
_PLATE_PARTS = re.compile(r"([0-9]{2}) (\S+) ([0-9]{3}) ایران ([0-9]{2})")
_VIN = re.compile(r"NA[A-Z]1([0-9]{2})([0-9]{2})([0-9]{3})([0-9]{2})([0-9]{2})00")


class Seizure(BaseModel):
    authority: str
    order_number: str


class Vehicle(BaseModel):
    plate: str
    vin: str
    kind: Kind
    make: str
    model: str
    year: int
    colour: str
    owner_national_code: str
    owner_name: str
    seized: bool
    seizure: Seizure | None


def valid_plate(raw: str) -> str:
    """The stored form of a plate; 422 when it is not one."""
    plate = canonical_vehicle_plate(raw)
    reason = check_vehicle_plate(plate)
    if reason is not None:
        raise AgencyError(422, "invalid-plate", "not a plate like 12 ب 345 ایران 67", reason=reason)
    return plate


def find_vehicle(plate: str) -> Vehicle:
    """The registered vehicle behind a valid plate (every valid plate has one)."""
    draw = Draw("vehicle_registry", plate)
    kind: Kind = "car" if draw.chance(8, 10) else "motorcycle" if draw.chance(2, 3) else "heavy"
    make, model, maker = draw.pick(MODELS[kind])
    year, colour = draw.between(1380, 1403), draw.pick(COLOURS)
    owner = DEMO_OWNERS.get(plate) or draw.national_code()
    if plate == DEMO_PLATE:
        kind, (make, model, maker), year, colour = "car", MODELS["car"][0], 1398, "سفید"
    person = find_person(owner)
    if person is None or not person.alive:
        owner = DEMO_SELLER
        person = find_person(owner)
    assert person is not None
    seized = plate == SEIZED_PLATE or (plate not in DEMO_OWNERS and draw.chance(1, 50))
    parts = _PLATE_PARTS.fullmatch(plate)
    assert parts is not None
    vin = (f"NA{maker}1{_LETTERS.index(parts.group(2)):02d}{parts.group(1)}{parts.group(3)}{parts.group(4)}"
           f"{year % 100:02d}00")
    seizure = Seizure(authority="دادگستری تهران", order_number=f"{draw.below(10**8):08d}") if seized else None
    return Vehicle(plate=plate, vin=vin, kind=kind, make=make, model=model, year=year, colour=colour,
                   owner_national_code=owner, owner_name=f"{person.first_name} {person.last_name}",
                   seized=seized, seizure=seizure)


def plate_of_vin(vin: str) -> str | None:
    """The plate a VIN of this registry was issued under, if it is one."""
    found = _VIN.fullmatch(vin.strip().upper())
    if found is None or int(found.group(1)) >= len(_LETTERS):
        return None
    return f"{found.group(2)} {_LETTERS[int(found.group(1))]} {found.group(3)} ایران {found.group(4)}"


def build() -> FastAPI:
    app = new_agency_app("Vehicle registry, Traffic Police (sandbox)", __doc__ or "")

    @app.get("/vehicles")
    async def vehicle(plate: str | None = None, vin: str | None = None) -> Vehicle:
        """A vehicle by plate or VIN, with its owner and any seizure."""
        if plate is not None and len(plate) <= 64:
            return find_vehicle(valid_plate(plate))
        if vin is not None and len(vin) <= 32:
            if not re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", vin.strip().upper()):
                raise AgencyError(422, "invalid-vin", "a VIN is 17 letters and digits, without I, O or Q")
            found = plate_of_vin(vin)
            if found is None or check_vehicle_plate(found) is not None or find_vehicle(found).vin != vin.upper():
                raise AgencyError(404, "not-found", "no registered vehicle has this VIN")
            return find_vehicle(found)
        raise AgencyError(422, "invalid-request", "give plate or vin")

    return app
