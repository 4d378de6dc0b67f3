"""The health ministry's birth records and the civil registry's marriage, name and birth routes, over real HTTP."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from connectors.simulators import Behaviour
from forms.dates import check_jalali, today_in_iran
from forms.identifiers import check_national_code
from tests.sandbox.conftest import Serve, quiet

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "forms" / "data" / "iran-identifier-vectors.json")
                     .read_text())
RECORD_FIELDS = {"record_number", "newborn_sex", "birth_date", "birth_date_gregorian", "birth_time", "hospital",
                 "city", "weight_g", "mother_national_code", "father_national_code"}


def _records(client: httpx.Client, parent: str) -> list[dict[str, object]]:
    response = client.get("/health-ministry/birth-records", params={"parent_national_code": parent})
    assert response.status_code == 200, response.text
    records: list[dict[str, object]] = response.json()["records"]
    return records


@pytest.mark.parametrize("parent", ["9876543210", "0013542419"])
def test_demo_birth_found_by_either_parent(shared: httpx.Client, parent: str) -> None:
    [record] = _records(shared, parent)
    assert set(record) == RECORD_FIELDS
    assert record["mother_national_code"] == "9876543210" and record["father_national_code"] == "0013542419"
    assert record["newborn_sex"] == "female" and record["hospital"] == "بیمارستان مهر"
    born = date.fromisoformat(str(record["birth_date_gregorian"]))
    assert born == today_in_iran() - timedelta(days=4)
    assert check_jalali(str(record["birth_date"])) is None


def test_late_birth_and_no_record(shared: httpx.Client) -> None:
    [late] = _records(shared, "0081500009")
    assert date.fromisoformat(str(late["birth_date_gregorian"])) == today_in_iran() - timedelta(days=40)
    assert late["father_national_code"] == "0081500017"
    assert _records(shared, "0081500025") == []


@pytest.mark.parametrize("code", VECTORS["nc_valid"])
def test_generated_records_are_plausible(shared: httpx.Client, code: str) -> None:
    for record in _records(shared, code):
        assert set(record) == RECORD_FIELDS and code in (record["mother_national_code"], record["father_national_code"])
        assert check_national_code(str(record["father_national_code"])) is None
        assert 2400 <= int(str(record["weight_g"])) <= 4300
        days = (today_in_iran() - date.fromisoformat(str(record["birth_date_gregorian"]))).days
        assert 1 <= days <= 60


@pytest.mark.parametrize("path", ["/health-ministry/birth-records?parent_national_code=0061234567",
                                  "/civil-registry/marriages/0061234567"])
def test_unknown_person_is_not_found(shared: httpx.Client, path: str) -> None:
    response = shared.get(path)
    assert response.status_code == 404 and response.json()["error"] == "not-found"


def test_invalid_code_is_refused_with_a_reason(shared: httpx.Client) -> None:
    response = shared.get("/health-ministry/birth-records", params={"parent_national_code": "0013542410"})
    assert response.status_code == 404 and response.json()["reason"] == "checksum"


def test_same_parent_same_records_across_app_instances(serve: Serve) -> None:
    first, second = serve(), serve()
    with httpx.Client(base_url=first) as one, httpx.Client(base_url=second) as two:
        for code in VECTORS["nc_valid"]:
            params = {"parent_national_code": code}
            assert (one.get("/health-ministry/birth-records", params=params).json()
                    == two.get("/health-ministry/birth-records", params=params).json())
            assert one.get(f"/civil-registry/marriages/{code}").json() == two.get(
                f"/civil-registry/marriages/{code}").json()


def test_marriages(shared: httpx.Client) -> None:
    assert shared.get("/civil-registry/marriages/0013542419").json() == {
        "national_code": "0013542419", "registered": True, "spouse_national_code": "9876543210",
        "marriage_date": "1398/06/15", "marriage_number": "1398-0041-7723"}
    assert shared.get("/civil-registry/marriages/9876543210").json()["spouse_national_code"] == "0013542419"
    unregistered = shared.get("/civil-registry/marriages/0081500033").json()
    assert unregistered["registered"] is False and unregistered["spouse_national_code"] is None


@pytest.mark.parametrize(("name", "sex", "refusal"), [
    ("ستاره", "female", None),
    ("علي", "male", None),  # Arabic yeh: the same name
    ("ملکه", "female", "title"),
    ("شاه", "male", "title"),
    ("آرش", "female", "other_sex"),
    ("زیگموند", "male", "not_listed"),
])
def test_first_name_check(shared: httpx.Client, name: str, sex: str, refusal: str | None) -> None:
    response = shared.get("/civil-registry/first-names/check", params={"name": name, "sex": sex})
    assert response.status_code == 200
    answer = response.json()
    assert answer["permitted"] is (refusal is None) and answer["refusal"] == refusal
    assert (answer["reason_fa"] is None) is (refusal is None) and (answer["reason_en"] is None) is (refusal is None)


def test_first_name_check_bounds(shared: httpx.Client) -> None:
    assert shared.get("/civil-registry/first-names/check", params={"name": "ا" * 61, "sex": "male"}).status_code == 422
    assert shared.get("/civil-registry/first-names/check", params={"name": "آرش", "sex": "x"}).status_code == 422


def test_registering_a_birth_is_idempotent(http: httpx.Client) -> None:
    [record] = _records(http, "9876543210")
    declaration = {"birth_record_number": record["record_number"], "mother_national_code": "9876543210",
                   "father_national_code": "0013542419", "first_name": "ستاره", "last_name": "رضایی",
                   "sex": "female", "birth_date": record["birth_date"]}
    first = http.post("/civil-registry/births", json=declaration)
    assert first.status_code == 201
    child = first.json()["national_code"]
    assert check_national_code(child) is None and child not in ("9876543210", "0013542419")
    again = http.post("/civil-registry/births", json=declaration)
    assert again.status_code == 200 and again.json() == first.json()
    other = http.post("/civil-registry/births", json={**declaration, "first_name": "زهرا"})
    assert other.status_code == 409 and other.json()["national_code"] == child
    refused = http.post("/civil-registry/births", json={**declaration, "birth_record_number": "000000000001",
                                                         "first_name": "ملکه"})
    assert refused.status_code == 422 and refused.json()["error"] == "name-not-permitted"
    unknown = http.post("/civil-registry/births", json={**declaration, "father_national_code": "0061234567"})
    assert unknown.status_code == 404


def test_the_child_code_follows_the_record_not_the_sandbox(serve: Serve) -> None:
    codes = []
    for url in (serve(), serve()):
        with httpx.Client(base_url=url) as client:
            declaration = {"birth_record_number": "123456789012", "mother_national_code": "0081500009",
                           "father_national_code": "0081500017", "first_name": "آرش", "last_name": "کاظمی",
                           "sex": "male", "birth_date": "1405/08/06"}
            codes.append(client.post("/civil-registry/births", json=declaration).json()["national_code"])
    assert codes[0] == codes[1]


def test_the_health_ministry_has_the_same_faults_as_every_agency(serve: Serve) -> None:
    settings = quiet(services={"health_ministry": Behaviour(latency_ms=0, jitter_ms=0, fail_every=2)})
    with httpx.Client(base_url=serve(settings)) as client:
        params = {"parent_national_code": "9876543210"}
        assert client.get("/health-ministry/birth-records", params=params).status_code == 200
        failed = client.get("/health-ministry/birth-records", params=params)
        assert failed.status_code == 500 and failed.json()["error"] == "simulated-failure"
        assert client.post("/_sandbox/outage", json={"service": "health_ministry", "down": True}).status_code == 200
        assert client.get("/health-ministry/birth-records", params=params).status_code == 503
        assert client.get("/civil-registry/marriages/9876543210").status_code == 200, "only that agency is down"
