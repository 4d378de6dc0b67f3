"""The vehicle-transfer agencies over real HTTP: the registry, fines, municipal tax, insurer and
notary answer the demo plates as their docstrings say, draw the same answer for the same plate,
refuse what is not a plate, and misbehave like every other simulated agency."""

from __future__ import annotations

import httpx
import pytest

from connectors.simulators.vehicle_registry import (
    BUYERS_OWN_PLATE,
    DEMO_PLATE,
    EXPIRED_INSURANCE_PLATE,
    FINES_PLATE,
    SEIZED_PLATE,
    UNPAID_TAX_PLATE,
)
from forms.identifiers import check_national_code, check_vehicle_plate
from tests.sandbox.conftest import Serve, quiet

PERSIAN_DEMO_PLATE = "۱۲ ب ۳۴۵ ایران ۶۷"
DRAWN_PLATES = [f"{10 + i} {letter} {100 + 37 * i} ایران {20 + i}" for i, letter in enumerate("بجدسصطقلمنوه")]


def test_demo_plate_is_the_demo_sellers_peugeot(shared: httpx.Client) -> None:
    found = shared.get("/vehicle-registry/vehicles", params={"plate": PERSIAN_DEMO_PLATE})
    assert found.status_code == 200
    vehicle = found.json()
    assert vehicle["plate"] == DEMO_PLATE
    assert (vehicle["model"], vehicle["year"], vehicle["kind"]) == ("پژو ۲۰۶", 1398, "car")
    assert (vehicle["owner_national_code"], vehicle["owner_name"]) == ("9876543210", "مریم حسینی")
    assert vehicle["seized"] is False and vehicle["seizure"] is None
    by_vin = shared.get("/vehicle-registry/vehicles", params={"vin": vehicle["vin"]})
    assert by_vin.json() == vehicle


def test_seized_plate_names_the_order(shared: httpx.Client) -> None:
    vehicle = shared.get("/vehicle-registry/vehicles", params={"plate": SEIZED_PLATE}).json()
    assert vehicle["seized"] is True and vehicle["seizure"]["order_number"]


def test_the_demo_citizen_owns_one_plate(shared: httpx.Client) -> None:
    vehicle = shared.get("/vehicle-registry/vehicles", params={"plate": BUYERS_OWN_PLATE}).json()
    assert vehicle["owner_national_code"] == "0013542419"


@pytest.mark.parametrize("plate", DRAWN_PLATES)
def test_every_plate_is_a_plausible_vehicle_owned_by_a_real_person(shared: httpx.Client, plate: str) -> None:
    assert check_vehicle_plate(plate) is None
    vehicle = shared.get("/vehicle-registry/vehicles", params={"plate": plate}).json()
    assert check_national_code(vehicle["owner_national_code"]) is None
    assert shared.get(f"/civil-registry/persons/{vehicle['owner_national_code']}").status_code == 200
    assert len(vehicle["vin"]) == 17 and 1380 <= vehicle["year"] <= 1403
    assert shared.get("/vehicle-registry/vehicles", params={"vin": vehicle["vin"]}).json() == vehicle


@pytest.mark.parametrize("path", ["/vehicle-registry/vehicles", "/traffic-fines/fines", "/vehicle-tax/vehicle-tax",
                                  "/insurer/third-party"])
@pytest.mark.parametrize("plate, reason", [("12 x 345 ایران 67", "shape"), ("1234", "shape"),
                                           ("12 ح 345 ایران 67", "letter"), ("02 ب 345 ایران 67", "shape")])
def test_what_is_not_a_plate_is_refused_with_a_reason(shared: httpx.Client, path: str, plate: str,
                                                       reason: str) -> None:
    refused = shared.get(path, params={"plate": plate})
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid-plate" and refused.json()["reason"] == reason


@pytest.mark.parametrize("vin, status, error", [("NAA101123456798", 422, "invalid-vin"),
                                                ("NAA10112345679O00", 422, "invalid-vin"),
                                                ("NAA10112345679900", 404, "not-found"),
                                                ("WVWZZZ1JZXW000001", 404, "not-found")])
def test_unknown_or_malformed_vins(shared: httpx.Client, vin: str, status: int, error: str) -> None:
    refused = shared.get("/vehicle-registry/vehicles", params={"vin": vin})
    assert (refused.status_code, refused.json()["error"]) == (status, error)


def test_fines_of_the_fines_plate_and_clearance_of_the_demo_plate(shared: httpx.Client) -> None:
    owed = shared.get("/traffic-fines/fines", params={"plate": FINES_PLATE}).json()
    assert owed["unpaid_count"] == 3 and owed["clearance_number"] is None
    assert owed["unpaid_total_rial"] == sum(f["amount_rial"] for f in owed["fines"]) > 0
    clear = shared.get("/traffic-fines/fines", params={"plate": DEMO_PLATE}).json()
    assert (clear["unpaid_count"], clear["fines"]) == (0, []) and clear["clearance_number"].startswith("FN-")


def test_municipal_tax(shared: httpx.Client) -> None:
    owed = shared.get("/vehicle-tax/vehicle-tax", params={"plate": UNPAID_TAX_PLATE}).json()
    assert owed["unpaid_years"] == [1403, 1404] and owed["unpaid_rial"] > 0 and owed["clearance_number"] is None
    clear = shared.get("/vehicle-tax/vehicle-tax", params={"plate": DEMO_PLATE}).json()
    assert clear["unpaid_rial"] == 0 and clear["clearance_number"].startswith("MT-")


def test_insurance(shared: httpx.Client) -> None:
    expired = shared.get("/insurer/third-party", params={"plate": EXPIRED_INSURANCE_PLATE}).json()
    assert expired["valid"] is False and expired["valid_until"].startswith("1404/")
    valid = shared.get("/insurer/third-party", params={"plate": DEMO_PLATE}).json()
    assert valid["valid"] is True and valid["valid_until"].startswith("1406/")


def test_same_plate_same_answers_across_app_instances(serve: Serve) -> None:
    paths = [f"{path}?plate={plate}" for plate in DRAWN_PLATES for path in
             ("/vehicle-registry/vehicles", "/traffic-fines/fines", "/vehicle-tax/vehicle-tax", "/insurer/third-party")]
    with httpx.Client(base_url=serve()) as one, httpx.Client(base_url=serve()) as two:
        assert [one.get(p).json() for p in paths] == [two.get(p).json() for p in paths]


def _deed(case_id: str = "case-1", buyer: str = "0013542419") -> dict[str, str]:
    return {"case_id": case_id, "plate": PERSIAN_DEMO_PLATE, "vin": "NAA10112345679800",
            "seller_national_code": "9876543210", "buyer_national_code": buyer}


def test_notary_registers_one_deed_per_case(http: httpx.Client) -> None:
    first = http.post("/notary/deeds", json=_deed())
    assert first.status_code == 201 and first.json()["registered"] is True
    assert first.json()["plate"] == DEMO_PLATE
    again = http.post("/notary/deeds", json=_deed(), headers={"Idempotency-Key": "another"})
    assert again.status_code == 200 and again.json() == first.json()
    conflict = http.post("/notary/deeds", json=_deed(buyer="0499370899"))
    assert conflict.status_code == 409 and conflict.json()["error"] == "case-conflict"
    other = http.post("/notary/deeds", json=_deed("case-2"))
    assert other.status_code == 201 and other.json()["deed_number"] != first.json()["deed_number"]
    assert http.get(f"/notary/deeds/{first.json()['deed_number']}").json() == first.json()
    assert http.get("/notary/deeds/1405-000000-9").status_code == 404
    status = http.get("/_sandbox/status").json()["services"]["notary"]
    assert status["side_effects"] == 2


@pytest.mark.parametrize("change, error", [({"buyer_national_code": "9876543210"}, "invalid-party"),
                                           ({"seller_national_code": "1234567890"}, "invalid-party"),
                                           ({"plate": "12 ح 345 ایران 67"}, "invalid-plate"),
                                           ({"case_id": ""}, "invalid-request")])
def test_notary_refusals(http: httpx.Client, change: dict[str, str], error: str) -> None:
    refused = http.post("/notary/deeds", json={**_deed(), **change})
    assert refused.status_code == 422 and refused.json()["error"] == error


@pytest.mark.parametrize("path", ["/insurer/third-party", "/vehicle-registry/vehicles"])
def test_fault_injection_reaches_the_new_agencies(serve: Serve, path: str) -> None:
    with httpx.Client(base_url=serve(quiet(fail_every=2))) as http:
        answers = [http.get(path, params={"plate": DEMO_PLATE}).status_code for _ in range(4)]
    assert answers.count(200) == 2 and len([a for a in answers if a >= 500]) == 2
