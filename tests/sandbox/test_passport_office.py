"""The police's passport office: biometrics slots on working days, booking once per slot, biometrics
recorded, the passport issued, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from connectors.simulators.behaviour import ServiceState
from connectors.simulators.passport_office import build, nearest_office, offered_slots, working_days
from connectors.simulators.settings import Behaviour
from tests.sandbox.conftest import Serve

# A Tuesday: the next working days are Wednesday, then Saturday and Sunday (Thursday and Friday off).
TUESDAY = date(2026, 12, 8)


@pytest.fixture
def office(serve: Serve) -> Iterator[httpx.Client]:
    state = ServiceState("passport_office", Behaviour(latency_ms=0, jitter_ms=0), 100)
    with httpx.Client(base_url=serve(app=build(state, lambda: TUESDAY)), timeout=10) as client:
        yield client


def test_slots_are_on_the_next_working_days() -> None:
    assert working_days(TUESDAY, 3) == [date(2026, 12, 9), date(2026, 12, 12), date(2026, 12, 13)]
    slots = offered_slots(nearest_office("1193653471"), TUESDAY)
    assert [(s.date, s.time) for s in slots] == [
        ("2026-12-09", "09:00"), ("2026-12-09", "11:00"), ("2026-12-12", "09:00"), ("2026-12-12", "11:00"),
        ("2026-12-13", "09:00"), ("2026-12-13", "11:00")]
    assert slots[0].slot_id == "P10-11936-20261209-0900" and slots[0].jalali_date == "1405/09/18"
    assert slots[0].label_fa.startswith("چهارشنبه ۱۴۰۵/۰۹/۱۸ ساعت ۰۹:۰۰") and "پلیس+۱۰" in slots[0].label_fa
    assert slots[0].label_en.startswith("Wednesday 09 December 2026 (1405/09/18), 09:00, Police+10 office 11936")


def test_a_booked_slot_is_no_longer_offered_and_booking_again_is_the_same(office: httpx.Client) -> None:
    listed = office.get("/appointments/slots", params={"postal_code": "1193653471"})
    assert listed.status_code == 200, listed.text
    first = listed.json()["slots"][0]["slot_id"]
    asked = {"national_code": "0013542419", "slot_id": first}
    booked = office.post("/appointments", json=asked)
    assert booked.status_code == 201, booked.text
    assert booked.json()["booking_number"].startswith("BIO-")
    assert office.post("/appointments", json=asked).json() == booked.json()
    left = office.get("/appointments/slots", params={"postal_code": "1193653471"}).json()["slots"]
    assert first not in [s["slot_id"] for s in left] and len(left) == 5
    taken = office.post("/appointments", json={"national_code": "0499370899", "slot_id": first})
    assert (taken.status_code, taken.json()["error"]) == (409, "slot-taken")


def test_booking_another_slot_gives_up_the_first(office: httpx.Client) -> None:
    slots = office.get("/appointments/slots", params={"postal_code": "1193653471"}).json()["slots"]
    office.post("/appointments", json={"national_code": "0013542419", "slot_id": slots[0]["slot_id"]})
    office.post("/appointments", json={"national_code": "0013542419", "slot_id": slots[1]["slot_id"]})
    listed = office.get("/appointments/slots", params={"postal_code": "1193653471"}).json()["slots"]
    left = [s["slot_id"] for s in listed]
    assert slots[0]["slot_id"] in left and slots[1]["slot_id"] not in left


@pytest.mark.parametrize(("slot_id", "status", "error"), [
    ("P10-11936-20261208-0900", 422, "unknown-slot"),  # today: no longer offered
    ("P10-11936-20261210-0900", 422, "unknown-slot"),  # a Thursday
    ("P10-02000-20261209-0900", 422, "unknown-slot"),
    ("nonsense", 422, "unknown-slot"),
])
def test_slots_not_offered_are_refused(office: httpx.Client, slot_id: str, status: int, error: str) -> None:
    answer = office.post("/appointments", json={"national_code": "0013542419", "slot_id": slot_id})
    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_invalid_inputs_are_refused(office: httpx.Client) -> None:
    bad_code = office.get("/appointments/slots", params={"postal_code": "0423437584"})
    assert (bad_code.status_code, bad_code.json()["error"]) == (422, "invalid-postal-code")
    bad_person = office.post("/appointments", json={"national_code": "0013542410", "slot_id": "x"})
    assert (bad_person.status_code, bad_person.json()["error"]) == (404, "invalid-national-code")


def test_biometrics_then_the_passport(office: httpx.Client) -> None:
    slot = office.get("/appointments/slots", params={"postal_code": "1193653471"}).json()["slots"][2]["slot_id"]
    booked = office.post("/appointments", json={"national_code": "0013542419", "slot_id": slot})
    number = booked.json()["booking_number"]
    early = office.post("/passports", json={"booking_number": number, "validity_years": 7})
    assert (early.status_code, early.json()["error"]) == (409, "no-biometrics")
    recorded = office.post("/biometrics", json={"booking_number": number})
    assert recorded.status_code == 200 and recorded.json()["recorded"] is True
    assert office.post("/biometrics", json={"booking_number": number}).json() == recorded.json()
    issued = office.post("/passports", json={"booking_number": number, "validity_years": 7})
    assert issued.status_code == 201, issued.text
    assert (issued.json()["valid_until"], issued.json()["valid_until_jalali"]) == ("2033-12-08", "1412/09/18")
    assert issued.json()["passport_number"][0] == "P"
    assert office.post("/passports", json={"booking_number": number, "validity_years": 7}).json() == issued.json()
    unknown = office.post("/biometrics", json={"booking_number": "BIO-00000000"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown-booking")


def test_the_sandbox_serves_it_behind_the_gate(shared: httpx.Client) -> None:
    answer = shared.get("/passport-office/appointments/slots", params={"postal_code": "8175913465"})
    assert answer.status_code == 200 and len(answer.json()["slots"]) == 6
    assert answer.headers["x-panjereh-request-id"]
