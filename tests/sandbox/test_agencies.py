"""Every agency endpoint over real HTTP: the payloads connectors code against, and the refusals."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import httpx
import pytest

from connectors.simulators.conscription import age_on, find_status
from forms.dates import check_jalali
from forms.identifiers import check_national_code, check_postal_code
from tests.sandbox.conftest import SMS_AUTH, Serve, quiet

# The research vectors, as tests/forms keeps them (it checks they match shared/research).
VECTORS = json.loads((Path(__file__).resolve().parents[1] / "forms" / "data" / "iran-identifier-vectors.json")
                     .read_text())
PERSON_FIELDS = {"national_code", "first_name", "last_name", "father_name", "birth_date", "gender", "alive",
                 "postal_code"}


def test_demo_citizen(shared: httpx.Client) -> None:
    response = shared.get("/civil-registry/persons/0013542419")
    assert response.status_code == 200
    assert response.json() == {"national_code": "0013542419", "first_name": "علی", "last_name": "رضایی",
                               "father_name": "حسن", "birth_date": "1365/04/12", "gender": "male", "alive": True,
                               "postal_code": "1193653471"}


def test_deceased_person(shared: httpx.Client) -> None:
    person = shared.get("/civil-registry/persons/2720123455").json()
    assert person["alive"] is False


@pytest.mark.parametrize("code", VECTORS["nc_valid"])
def test_every_valid_code_is_a_plausible_person(shared: httpx.Client, code: str) -> None:
    response = shared.get(f"/civil-registry/persons/{code}")
    assert response.status_code == 200
    person = response.json()
    assert set(person) == PERSON_FIELDS and person["national_code"] == code
    assert person["gender"] in ("male", "female")
    assert check_jalali(person["birth_date"]) is None
    assert check_postal_code(person["postal_code"]) is None
    assert all(person[field] for field in ("first_name", "last_name", "father_name"))


@pytest.mark.parametrize("code", [*VECTORS["nc_invalid_offby1"], "1111111111", "0010000003", "12345678",
                                  "۰۰۱۳۵۴۲۴۱۹", "abc"])
def test_invalid_national_codes_are_404_with_a_reason(shared: httpx.Client, code: str) -> None:
    response = shared.get(f"/civil-registry/persons/{code}")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "invalid-national-code" and body["reason"] in ("length", "checksum")


def test_valid_but_unregistered_code_is_not_found(shared: httpx.Client) -> None:
    assert check_national_code("0061234567") is None
    response = shared.get("/civil-registry/persons/0061234567")
    assert response.status_code == 404 and response.json()["error"] == "not-found"


def test_same_identifier_same_data_across_app_instances(serve: Serve) -> None:
    paths = [f"/civil-registry/persons/{c}" for c in VECTORS["nc_valid"]]
    paths += [f"/business-registry/companies/{c}" for c in VECTORS["lid_valid"]]
    paths += [f"/tax/taxpayers/{c}" for c in VECTORS["nc_valid"] + VECTORS["lid_valid"]]
    paths += [f"/judiciary/criminal-records/{c}" for c in VECTORS["nc_valid"]]
    paths += [f"/conscription/service-status/{c}" for c in VECTORS["nc_valid"]]
    first, second = serve(), serve()
    with httpx.Client(base_url=first) as one, httpx.Client(base_url=second) as two:
        for path in paths:
            assert one.get(path).json() == two.get(path).json(), path


@pytest.mark.parametrize(("code", "mobile", "match"), [
    ("0013542419", "09121234567", True),
    ("0013542419", "09351234567", False),
    ("9876543210", "09351234567", True),
    ("1234567891", "09122222222", True),
    ("1234567891", "09121234567", False),
    ("0061234567", "09122222222", False),
    ("2720123455", "09122222222", False),
])
def test_mobile_ownership(shared: httpx.Client, code: str, mobile: str, match: bool) -> None:
    response = shared.post("/mobile-registry/ownership", json={"national_code": code, "mobile": mobile})
    assert response.status_code == 200 and response.json() == {"match": match}


@pytest.mark.parametrize(("body", "error"), [
    ({"national_code": "0013542410", "mobile": "09121234567"}, "invalid-national-code"),
    ({"national_code": "0013542419", "mobile": "0912123456"}, "invalid-mobile"),
    ({"national_code": "0013542419", "mobile": "+989121234567"}, "invalid-mobile"),
    ({"national_code": "0013542419"}, "invalid-request"),
])
def test_mobile_ownership_refuses_bad_input(shared: httpx.Client, body: dict[str, str], error: str) -> None:
    response = shared.post("/mobile-registry/ownership", json=body)
    assert response.status_code == 422 and response.json()["error"] == error


@pytest.mark.parametrize(("taxpayer", "expected"), [
    ("0013542419", {"kind": "person", "registered": True, "debt_rial": 0, "clearance": True}),
    ("1234567891", {"kind": "person", "registered": True, "debt_rial": 45_000_000, "clearance": False}),
    ("3678123457", {"kind": "person", "registered": False, "debt_rial": 0, "clearance": True}),
    ("10380284790", {"kind": "company", "registered": True, "debt_rial": 0, "clearance": True}),
    ("10100654321", {"kind": "company", "registered": True, "debt_rial": 120_000_000, "clearance": False}),
])
def test_tax_status(shared: httpx.Client, taxpayer: str, expected: dict[str, object]) -> None:
    response = shared.get(f"/tax/taxpayers/{taxpayer}")
    assert response.status_code == 200 and response.json() == {"id": taxpayer, **expected}


@pytest.mark.parametrize("taxpayer", VECTORS["nc_valid"] + VECTORS["lid_valid"])
def test_tax_status_for_every_valid_id(shared: httpx.Client, taxpayer: str) -> None:
    status = shared.get(f"/tax/taxpayers/{taxpayer}").json()
    assert status["kind"] == ("company" if len(taxpayer) == 11 else "person")
    assert status["clearance"] == (status["debt_rial"] == 0)
    assert status["debt_rial"] == 0 or status["registered"]


@pytest.mark.parametrize(("taxpayer", "error"), [
    *((code, "invalid-id") for code in VECTORS["nc_invalid_offby1"] + VECTORS["lid_invalid"]),
    ("123", "invalid-id"), ("0061234567", "not-found"), ("14009999995", "not-found"),
])
def test_tax_refusals(shared: httpx.Client, taxpayer: str, error: str) -> None:
    response = shared.get(f"/tax/taxpayers/{taxpayer}")
    assert response.status_code == 404 and response.json()["error"] == error


def test_demo_company_is_managed_by_the_demo_citizen(shared: httpx.Client) -> None:
    company = shared.get("/business-registry/companies/10380284790").json()
    assert company["status"] == "active" and company["registered_at"] == "1395/06/20"
    assert company["managers"][0] == {"national_code": "0013542419", "name": "علی رضایی", "role": "مدیرعامل"}
    assert shared.get("/business-registry/companies/10100654321").json()["status"] == "dissolved"


@pytest.mark.parametrize("legal_id", VECTORS["lid_valid"])
def test_companies_and_their_managers_agree_with_the_civil_registry(shared: httpx.Client, legal_id: str) -> None:
    company = shared.get(f"/business-registry/companies/{legal_id}").json()
    assert company["legal_id"] == legal_id and company["status"] in ("active", "dissolved")
    assert check_jalali(company["registered_at"]) is None and company["name"].startswith("شرکت ")
    assert 1 <= len(company["managers"]) <= 3
    for manager in company["managers"]:
        person = shared.get(f"/civil-registry/persons/{manager['national_code']}").json()
        assert manager["name"] == f"{person['first_name']} {person['last_name']}"


@pytest.mark.parametrize(("legal_id", "error"), [
    *((code, "invalid-legal-id") for code in VECTORS["lid_invalid"]),
    ("0013542419", "invalid-legal-id"), ("14009999995", "not-found"),
])
def test_company_refusals(shared: httpx.Client, legal_id: str, error: str) -> None:
    response = shared.get(f"/business-registry/companies/{legal_id}")
    assert response.status_code == 404 and response.json()["error"] == error


def test_sms_send_and_read_back(http: httpx.Client) -> None:
    sent = http.post("/sms/messages", json={"to": "+989121234567", "text": "کد ورود: 482913"}, headers=SMS_AUTH)
    assert sent.status_code == 202 and sent.json() == {"id": "sms-000001"}
    http.post("/sms/messages", json={"to": "09351234567", "text": "other"}, headers=SMS_AUTH)
    outbox = http.get("/sms/messages", params={"to": "۰۹۱۲۱۲۳۴۵۶۷"}, headers=SMS_AUTH).json()["messages"]
    assert [(m["id"], m["to"], m["text"]) for m in outbox] == [("sms-000001", "09121234567", "کد ورود: 482913")]
    assert len(http.get("/sms/messages", headers=SMS_AUTH).json()["messages"]) == 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "sandbox-sms-key"}])
def test_sms_needs_the_key_to_send_and_to_read(http: httpx.Client, headers: dict[str, str]) -> None:
    sent = http.post("/sms/messages", json={"to": "09121234567", "text": "x"}, headers=headers)
    assert sent.status_code == 401 and sent.json()["error"] == "unauthorized"
    assert http.get("/sms/messages", headers=headers).status_code == 401
    assert http.get("/_sandbox/status").json()["services"]["sms"]["side_effects"] == 0


@pytest.mark.parametrize(("body", "error"), [
    ({"to": "0912123456", "text": "x"}, "invalid-mobile"),
    ({"to": "09121234567", "text": ""}, "invalid-request"),
    ({"to": "09121234567", "text": "x" * 1001}, "invalid-request"),
])
def test_sms_refuses_bad_messages(http: httpx.Client, body: dict[str, str], error: str) -> None:
    response = http.post("/sms/messages", json=body, headers=SMS_AUTH)
    assert response.status_code == 422 and response.json()["error"] == error
    assert http.get("/sms/messages", headers=SMS_AUTH).json() == {"messages": []}


MAIL_AUTH = {"Authorization": "Bearer sandbox-mail-key"}


def test_mail_send_and_read_back_only_with_the_key(http: httpx.Client) -> None:
    message = {"to": " Maryam@Example.IR", "subject": "پنجره", "text": "درخواست شما تأیید شد."}
    assert http.post("/mail/messages", json=message).status_code == 401
    assert http.post("/mail/messages", json=message, headers={"Authorization": "Bearer wrong"}).status_code == 401
    sent = http.post("/mail/messages", json=message, headers=MAIL_AUTH)
    assert sent.status_code == 202 and sent.json() == {"id": "mail-000001"}
    keyed = {**MAIL_AUTH, "Idempotency-Key": "k1"}
    again = http.post("/mail/messages", json=message, headers=keyed)
    assert http.post("/mail/messages", json=message, headers=keyed).json() == again.json()
    kept = http.get("/mail/messages", params={"to": "maryam@example.ir"}, headers=MAIL_AUTH).json()["messages"]
    assert [(m["to"], m["subject"]) for m in kept] == [("maryam@example.ir", "پنجره")] * 2
    assert http.get("/mail/messages").status_code == 401


@pytest.mark.parametrize("body", [
    {"to": "maryam@example", "subject": "s", "text": "x"},
    {"to": "a b@example.ir", "subject": "s", "text": "x"},
    {"to": "maryam@example.ir", "subject": "", "text": "x"},
    {"to": "maryam@example.ir", "subject": "s", "text": "x" * 10_001},
])
def test_mail_refuses_bad_messages(http: httpx.Client, body: dict[str, str]) -> None:
    assert http.post("/mail/messages", json=body, headers=MAIL_AUTH).status_code == 422
    assert http.get("/mail/messages", headers=MAIL_AUTH).json() == {"messages": []}


def test_sms_key_is_configurable(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(sms_api_key="other-key"))) as http:
        body = {"to": "09121234567", "text": "x"}
        assert http.post("/sms/messages", json=body, headers=SMS_AUTH).status_code == 401
        assert http.post("/sms/messages", json=body, headers={"Authorization": "Bearer other-key"}).status_code == 202


@pytest.mark.parametrize(("code", "category"), [
    ("0013542419", "none"), ("0499370899", "none"), ("3678123457", "none"),
    ("0040010007", "financial"), ("0040010082", "violent"),
])
def test_criminal_record(shared: httpx.Client, code: str, category: str) -> None:
    response = shared.get(f"/judiciary/criminal-records/{code}")
    assert response.status_code == 200
    record = response.json()
    assert record["category"] == category
    assert record["has_record"] is record["disqualifies"] is (category != "none")
    assert re.fullmatch(r"1405-[0-9]{4}-[0-9]{4}-[0-9]{4}", record["certificate_number"])


@pytest.mark.parametrize(("code", "status"), [
    ("0013542419", "completed"), ("0040010155", "absent"), ("0040010244", "serving"), ("0040010309", "exempt"),
    ("0499370899", "not_applicable"), ("3678123457", "not_applicable"),
])
def test_military_service_status(shared: httpx.Client, code: str, status: str) -> None:
    response = shared.get(f"/conscription/service-status/{code}")
    assert response.status_code == 200
    answer = response.json()
    person = shared.get(f"/civil-registry/persons/{code}").json()
    assert answer["status"] == status
    assert (answer["gender"], answer["birth_date"]) == (person["gender"], person["birth_date"])
    assert (answer["card_number"] is not None) == (status in ("completed", "exempt"))


def test_men_under_service_age_are_not_applicable() -> None:
    # 0040010244 was born 1384/01/21: 17 the day before his eighteenth birthday, serving on it.
    assert age_on("1384/01/21", date(2023, 4, 9)) == 17
    assert find_status("0040010244", date(2023, 4, 9)).status == "not_applicable"  # type: ignore[union-attr]
    assert find_status("0040010244", date(2023, 4, 10)).status == "serving"  # type: ignore[union-attr]


@pytest.mark.parametrize("code", VECTORS["nc_valid"])
def test_checks_for_every_valid_code(shared: httpx.Client, code: str) -> None:
    record = shared.get(f"/judiciary/criminal-records/{code}").json()
    assert record["category"] in ("none", "financial", "violent")
    service = shared.get(f"/conscription/service-status/{code}").json()
    assert service["status"] == "not_applicable" or service["gender"] == "male"


@pytest.mark.parametrize("path", ["/judiciary/criminal-records", "/conscription/service-status"])
@pytest.mark.parametrize(("code", "error"), [
    ("0013542410", "invalid-national-code"), ("123", "invalid-national-code"), ("0061234567", "not-found"),
])
def test_check_refusals(shared: httpx.Client, path: str, code: str, error: str) -> None:
    response = shared.get(f"{path}/{code}")
    assert response.status_code == 404 and response.json()["error"] == error
