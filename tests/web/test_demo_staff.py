"""The demo staff sign-in of a development server: a clerk of each agency the catalogue names,
one button each, straight into that agency's inbox; nothing of it on a production server."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.services.runtime import Runtime
from tests.web.journey import csrf, ready_catalogue, text


def test_each_agency_of_the_catalogue_has_a_clerk_to_sign_in_as(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    page = client.get("/dev/staff")
    assert page.status_code == 200
    shown = text(page.text)
    assert "ورود به جای کارمند اتحادیه صنفی" in shown and "ورود به جای کارمند شهرداری" in shown
    assert 'href="/dev/staff"' in client.get("/").text, "the footer of a development server links to it"
    signed_in = client.post("/dev/staff", data={"csrf_token": csrf(page.text), "agency": "municipality"},
                            follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/staff"
    inbox = client.get("/staff")
    assert inbox.status_code == 200 and "شهرداری" in text(inbox.text)


def test_an_agency_not_in_the_catalogue_and_a_missing_csrf_sign_nobody_in(client: TestClient,
                                                                         runtime: Runtime) -> None:
    ready_catalogue(runtime)
    page = client.get("/dev/staff")
    unknown = client.post("/dev/staff", data={"csrf_token": csrf(page.text), "agency": "tax_office"},
                          follow_redirects=False)
    assert unknown.status_code == 422
    forged = client.post("/dev/staff", data={"agency": "municipality"}, follow_redirects=False)
    assert forged.status_code in (400, 403)
    assert client.get("/staff", follow_redirects=False).status_code == 303, "still signed out"


def test_there_is_no_demo_sign_in_on_a_production_server(client: TestClient, runtime: Runtime) -> None:
    ready_catalogue(runtime)
    runtime.settings.environment = "production"
    assert client.get("/dev/staff").status_code == 404
    assert client.post("/dev/staff", data={"agency": "municipality"}).status_code == 404
    assert 'href="/dev/staff"' not in client.get("/").text
