"""Real-system behaviour: failures, rate limits, outages, idempotency keys and the access log."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from connectors.simulators import Behaviour
from tests.sandbox.conftest import SMS_AUTH, Serve, quiet

PERSON = "/civil-registry/persons/0013542419"
SMS = {"to": "09121234567", "text": "کد ورود: 482913"}


def statuses(http: httpx.Client, path: str, count: int) -> list[int]:
    return [http.get(path).status_code for _ in range(count)]


def outbox(http: httpx.Client) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = http.get("/sms/messages", headers=SMS_AUTH).json()["messages"]
    return messages


def sms_recorded(http: httpx.Client) -> int:
    """SMS messages actually recorded, read from the admin API (the outbox GET can fail like any call)."""
    return int(http.get("/_sandbox/status").json()["services"]["sms"]["side_effects"])


def test_every_nth_request_fails(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(fail_every=3))) as http:
        assert statuses(http, PERSON, 7) == [200, 200, 500, 200, 200, 500, 200]
        entries = http.get("/_sandbox/log").json()["entries"]
        assert [e["injected"] for e in entries[:3]] == [None, None, "failure"]
        assert http.get("/_sandbox/status").json()["services"]["civil_registry"]["requests"] == 7


def test_failure_body_and_status_are_configurable(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(fail_every=1, fail_status=502))) as http:
        response = http.get(PERSON)
        assert response.status_code == 502 and response.json()["error"] == "simulated-failure"


def test_one_service_can_misbehave_alone(serve: Serve) -> None:
    settings = quiet(services={"tax": Behaviour(fail_every=1, fail_status=504)})
    with httpx.Client(base_url=serve(settings)) as http:
        assert statuses(http, "/tax/taxpayers/0013542419", 2) == [504, 504]
        assert statuses(http, PERSON, 2) == [200, 200]


def test_error_rate_is_repeatable_with_a_seed(serve: Serve) -> None:
    patterns = []
    for _ in range(2):
        with httpx.Client(base_url=serve(quiet(error_rate=0.5, seed=7))) as http:
            patterns.append(statuses(http, PERSON, 20))
    assert patterns[0] == patterns[1]
    assert 200 in patterns[0] and 500 in patterns[0]
    with httpx.Client(base_url=serve(quiet(error_rate=1.0))) as http:
        assert statuses(http, PERSON, 3) == [500, 500, 500]


def test_rate_limit_per_client_with_retry_after(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(rate_limit=2, rate_window_s=1))) as http:
        assert statuses(http, PERSON, 2) == [200, 200]
        refused = http.get(PERSON)
        assert refused.status_code == 429 and refused.json()["error"] == "rate-limited"
        assert refused.headers["Retry-After"] == "1"
        assert http.get(PERSON, headers={"X-Panjereh-Client": "another-agency"}).status_code == 200
        time.sleep(1.05)
        assert http.get(PERSON).status_code == 200
        # Refused requests never reached the registry.
        assert http.get("/_sandbox/status").json()["services"]["civil_registry"]["requests"] == 4


def test_outage_until_switched_off(http: httpx.Client) -> None:
    switched = http.post("/_sandbox/outage", json={"service": "civil-registry", "down": True})
    assert switched.status_code == 200 and switched.json()["services"]["civil_registry"]["down"] is True
    down = http.get(PERSON)
    assert down.status_code == 503 and down.json()["error"] == "service-unavailable"
    assert "Retry-After" not in down.headers
    assert http.get("/tax/taxpayers/0013542419").status_code == 200
    http.post("/_sandbox/outage", json={"service": "civil_registry", "down": False})
    assert http.get(PERSON).status_code == 200


def test_timed_outage_says_when_to_retry_and_ends(http: httpx.Client) -> None:
    http.post("/_sandbox/outage", json={"service": "*", "down": True, "seconds": 1})
    down = http.get(PERSON)
    assert down.status_code == 503 and down.headers["Retry-After"] == "1"
    assert http.post("/sms/messages", json=SMS, headers=SMS_AUTH).status_code == 503
    time.sleep(1.05)
    assert http.get(PERSON).status_code == 200
    assert all(not s["down"] for s in http.get("/_sandbox/status").json()["services"].values())


def test_outage_from_settings_and_unknown_service(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(services={"post": Behaviour(down=True)}))) as http:
        assert http.post("/post/soap", content=b"<x/>").status_code == 503
        assert http.post("/_sandbox/outage", json={"service": "weather", "down": True}).status_code == 404


def test_idempotent_replay_records_one_message(http: httpx.Client) -> None:
    headers = {**SMS_AUTH, "Idempotency-Key": "otp-case-17"}
    first = http.post("/sms/messages", json=SMS, headers=headers)
    again = http.post("/sms/messages", json=SMS, headers=headers)
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert len(outbox(http)) == 1
    assert http.get("/_sandbox/status").json()["services"]["sms"]["side_effects"] == 1
    http.post("/sms/messages", json=SMS, headers={**SMS_AUTH, "Idempotency-Key": "otp-case-18"})
    assert len(outbox(http)) == 2


def test_duplicates_in_flight_wait_for_the_first(serve: Serve) -> None:
    base = serve(quiet(latency_ms=150))
    barrier = threading.Barrier(5)
    answers: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            barrier.wait()
            answers.append(client.post("/sms/messages", json=SMS, headers={**SMS_AUTH, "Idempotency-Key": "k"}))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} == {202} and {a.json()["id"] for a in answers} == {"sms-000001"}
    with httpx.Client(base_url=base) as http:
        assert len(outbox(http)) == 1


def test_same_key_for_a_different_request_is_refused(http: httpx.Client) -> None:
    headers = {**SMS_AUTH, "Idempotency-Key": "k"}
    assert http.post("/sms/messages", json=SMS, headers=headers).status_code == 202
    reused = http.post("/sms/messages", json={**SMS, "text": "another"}, headers=headers)
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency-key-reused"
    assert http.post("/sms/messages", json=SMS, headers={**SMS_AUTH, "Idempotency-Key": "x" * 256}).status_code == 400
    assert len(outbox(http)) == 1


def test_refusals_are_not_replayed(http: httpx.Client) -> None:
    """A 401 is not kept: the same key with the right credentials then goes through."""
    assert http.post("/sms/messages", json=SMS, headers={"Idempotency-Key": "k"}).status_code == 401
    assert http.post("/sms/messages", json=SMS, headers={**SMS_AUTH, "Idempotency-Key": "k"}).status_code == 202


def test_failure_before_acting_releases_the_key(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(fail_every=2))) as http:
        assert http.post("/sms/messages", json=SMS, headers={**SMS_AUTH, "Idempotency-Key": "a"}).status_code == 202
        retry = {**SMS_AUTH, "Idempotency-Key": "b"}
        assert http.post("/sms/messages", json=SMS, headers=retry).status_code == 500
        assert sms_recorded(http) == 1
        assert http.post("/sms/messages", json=SMS, headers=retry).json() == {"id": "sms-000002"}
        assert sms_recorded(http) == 2


def test_lost_answer_retried_with_the_key_sends_once(serve: Serve) -> None:
    settings = quiet(services={"sms": Behaviour(fail_every=1, fail_after_side_effect=True)})
    with httpx.Client(base_url=serve(settings)) as http:
        headers = {**SMS_AUTH, "Idempotency-Key": "otp-1"}
        assert http.post("/sms/messages", json=SMS, headers=headers).status_code == 500
        retried = http.post("/sms/messages", json=SMS, headers=headers)
        assert retried.status_code == 202 and retried.json() == {"id": "sms-000001"}
        assert sms_recorded(http) == 1
        # Without a key the same retry sends the code twice: the hazard the key exists for.
        assert http.post("/sms/messages", json=SMS, headers=SMS_AUTH).status_code == 500
        assert http.post("/sms/messages", json=SMS, headers=SMS_AUTH).status_code == 500
        assert sms_recorded(http) == 3


def test_case_and_purpose_are_echoed_and_logged(http: httpx.Client) -> None:
    context = {"X-Panjereh-Case": "BL-1403-000123", "X-Panjereh-Purpose": "identity-check"}
    answered = http.get(PERSON, headers=context)
    assert answered.headers["X-Panjereh-Case"] == "BL-1403-000123"
    assert answered.headers["X-Panjereh-Purpose"] == "identity-check"
    http.get("/civil-registry/persons/0013542410", headers={"X-Panjereh-Case": "BL-1403-000123"})
    http.get("/tax/taxpayers/0013542419", headers={"X-Panjereh-Case": "other"})
    entries = http.get("/_sandbox/log", params={"case": "BL-1403-000123"}).json()["entries"]
    assert [(e["service"], e["path"], e["status"], e["purpose"]) for e in entries] == [
        ("civil_registry", PERSON, 200, "identity-check"),
        ("civil_registry", "/civil-registry/persons/0013542410", 404, None)]
    assert entries[0]["request_id"] == answered.headers["X-Panjereh-Request-Id"]
    assert len({e["request_id"] for e in http.get("/_sandbox/log").json()["entries"]}) == 3
    assert [e["case"] for e in http.get("/_sandbox/log", params={"service": "tax"}).json()["entries"]] == ["other"]


def test_refused_requests_are_logged_too(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(rate_limit=1))) as http:
        http.get(PERSON, headers={"X-Panjereh-Case": "c"})
        http.get(PERSON, headers={"X-Panjereh-Case": "c"})
        entries = http.get("/_sandbox/log").json()["entries"]
        assert [(e["status"], e["injected"], e["case"]) for e in entries] == [
            (200, None, "c"), (429, "rate-limit", "c")]


def test_latency_is_applied(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(latency_ms=150))) as http:
        started = time.monotonic()
        http.get(PERSON)
        assert time.monotonic() - started >= 0.15


def test_memory_is_bounded(serve: Serve) -> None:
    with httpx.Client(base_url=serve(quiet(log_size=3, sms_outbox_size=2))) as http:
        for _ in range(3):
            http.post("/sms/messages", json=SMS, headers=SMS_AUTH)
        assert [m["id"] for m in outbox(http)] == ["sms-000002", "sms-000003"]
        assert len(http.get("/_sandbox/log").json()["entries"]) == 3


@pytest.mark.parametrize("path", ["/_sandbox/status", "/_sandbox/log"])
def test_admin_key_guards_the_switches(serve: Serve, path: str) -> None:
    with httpx.Client(base_url=serve(quiet(admin_key="demo-admin"))) as http:
        assert http.get(path).status_code == 401
        assert http.post("/_sandbox/outage", json={"service": "*", "down": True}).status_code == 401
        assert http.get(path, headers={"Authorization": "Bearer demo-admin"}).status_code == 200
        assert http.get(PERSON).status_code == 200
