"""Third-party insurance (بیمه شخص ثالث), as Central Insurance's inquiry answers it, by plate.

``GET /third-party?plate=12 ب 345 ایران 67`` -> 200::

    {"plate": "12 ب 345 ایران 67", "insurer": "بیمه ایران", "policy_number": "TP-12345678",
     "valid_until": "1406/02/14", "valid": true}

``valid`` is whether the policy covers today; the sandbox fixes "today" in 1405, so a policy valid
until 1405/10/01 or later is valid and one that ended in 1404 has expired. A plate that is not one is
422 ``{"error": "invalid-plate", ...}``.

Fixed: ``33 د 222 ایران 20``'s policy expired; the other demo plates of `vehicle_registry` are
insured. Any other plate's policy has expired 1 time in 6, drawn from the plate (`data.Draw`).
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.simulators.agency import new_agency_app
from connectors.simulators.data import Draw
from connectors.simulators.vehicle_registry import DEMO_OWNERS, EXPIRED_INSURANCE_PLATE, valid_plate

INSURERS = ("بیمه ایران", "بیمه آسیا", "بیمه البرز", "بیمه دانا", "بیمه پارسیان")


class Policy(BaseModel):
    plate: str
    insurer: str
    policy_number: str
    valid_until: str
    valid: bool


def policy(plate: str) -> Policy:
    """The last third-party policy of a valid plate."""
    draw = Draw("insurer", plate)
    insurer, number = draw.pick(INSURERS), f"TP-{draw.below(10**8):08d}"
    valid = plate != EXPIRED_INSURANCE_PLATE and (plate in DEMO_OWNERS or not draw.chance(1, 6))
    until = draw.jalali_date(1406, 1406) if valid else draw.jalali_date(1404, 1404)
    return Policy(plate=plate, insurer=insurer, policy_number=number, valid_until=until, valid=valid)


def build() -> FastAPI:
    app = new_agency_app("Third-party insurance inquiry (sandbox)", __doc__ or "")

    @app.get("/third-party")
    async def third_party(plate: str) -> Policy:
        """A plate's third-party policy and whether it is still valid."""
        return policy(valid_plate(plate[:64]))

    return app
