"""Every 503 the product sends, pages and API alike, says when to come back (`Retry-After`).

The walk covers each way the product answers 503 today: sign-in when the mobile registry or
the SMS gateway is not configured, down, or down for a time it names; a database held by
another process, under a page and under the API; and, for anything added later, the net that
gives any 503 without a wait the default one. The agencies are the simulated ones, on a real
port of this test's own, taken down through their own admin API.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from connectors.simulators.app import create_sandbox_app
from connectors.simulators.settings import SandboxSettings
from engine.api.errors import RETRY_AFTER_UNSAID
from engine.app import build_app
from engine.compose import build_runtime
from engine.services.signin import RETRY_AFTER_FAILED, RETRY_AFTER_NOT_CONFIGURED
from engine.services.tracking import new_tracking_code
from engine.settings import Settings
from tests.api.test_outage import HOLD_THE_LOCK
from tests.fixtures import ADMIN_TOKEN, ROOT, serve
from tests.web.journey import CITIZEN, MOBILE, csrf

PRODUCTION_KEY = "production-secret-key-for-tests-0123456789"


@pytest.fixture
def own_agencies() -> Iterator[str]:
    """Simulated agencies that this test alone takes down and brings back."""
    host = FastAPI()
    host.mount("/sandbox", create_sandbox_app(SandboxSettings()))
    with serve(host) as url:
        yield url


def _outage(agencies: str, service: str, down: bool, seconds: float | None = None) -> None:
    switch = {"service": service, "down": down, **({"seconds": seconds} if seconds else {})}
    assert httpx.post(f"{agencies}/sandbox/_sandbox/outage", json=switch).status_code == 200


def _settings(tmp_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {"var_dir": tmp_path / "var", "database_url": f"sqlite:///{tmp_path / 'p.db'}",
                                 "processes_dir": ROOT / "processes", "admin_token": ADMIN_TOKEN,
                                 "connector_timeout_seconds": 5, **extra}
    return Settings(**values)  # type: ignore[arg-type]


def _wait_named(response: httpx.Response) -> int:
    assert response.status_code == 503, (response.request.url, response.status_code, response.text[:300])
    wait = response.headers.get("retry-after", "")
    assert wait.isdigit() and int(wait) > 0, (response.request.url, dict(response.headers))
    return int(wait)


def _ask_for_a_code(client: TestClient) -> httpx.Response:
    page = client.get("/sign-in")
    return client.post("/sign-in", data={"csrf_token": csrf(page.text), "national_code": CITIZEN, "mobile": MOBILE,
                                         "next": "/cases"}, follow_redirects=False)


def test_sign_in_says_when_to_come_back_when_an_agency_fails(tmp_path: Path, own_agencies: str) -> None:
    runtime = build_runtime(_settings(tmp_path, public_url=own_agencies))
    try:
        with TestClient(build_app(runtime)) as client:
            assert _ask_for_a_code(client).status_code == 303, "signing in works while the agencies are up"
            _outage(own_agencies, "mobile_registry", True)
            assert _wait_named(_ask_for_a_code(client)) == RETRY_AFTER_FAILED
            _outage(own_agencies, "mobile_registry", True, seconds=120)
            assert 100 <= _wait_named(_ask_for_a_code(client)) <= 120, "the agency's own wait is passed on"
            _outage(own_agencies, "mobile_registry", False)
            _outage(own_agencies, "sms", True)
            assert _wait_named(_ask_for_a_code(client)) == RETRY_AFTER_FAILED
            _outage(own_agencies, "sms", False)
            assert _ask_for_a_code(client).status_code == 303
    finally:
        runtime.close()


def test_sign_in_says_when_to_come_back_when_an_agency_is_not_configured(tmp_path: Path, own_agencies: str) -> None:
    production = _settings(tmp_path, environment="production", secret_key=PRODUCTION_KEY, public_url=own_agencies,
                           secrets={"sms_api_key": "the-real-gateway-key"})
    runtime = build_runtime(production)
    try:
        with TestClient(build_app(runtime), base_url="https://testserver") as client:
            assert _wait_named(_ask_for_a_code(client)) == RETRY_AFTER_NOT_CONFIGURED
    finally:
        runtime.close()


def test_a_database_held_elsewhere_says_when_to_come_back_on_pages_and_api(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_timeout_seconds=1, sandbox=False)
    runtime = build_runtime(settings)
    try:
        with TestClient(build_app(runtime)) as client:
            track = client.get("/track")
            holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(tmp_path / "p.db")],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
                page = client.post("/track", data={"csrf_token": csrf(track.text), "tracking_code": new_tracking_code(),
                                                   "national_code": CITIZEN})
                _wait_named(page)
                assert page.headers["content-type"].startswith("text/html")
                _wait_named(client.post("/api/v1/processes/approval/instances", json={"data": {}},
                                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}))
            finally:
                holder.communicate("", timeout=30)
    finally:
        runtime.close()


def test_any_other_503_gets_a_wait_and_mounted_agencies_keep_their_own(tmp_path: Path) -> None:
    """The net under the handlers: a 503 that names no wait gets the default one. What the
    simulated agencies mounted in a development server answer is theirs, and an open-ended
    outage of theirs names no wait."""
    runtime = build_runtime(_settings(tmp_path, sandbox=True))
    try:
        app = build_app(runtime)

        def bare() -> Response:
            return Response("down", status_code=503)

        app.add_api_route("/test/bare-503", bare, include_in_schema=False)
        with TestClient(app) as client:
            assert _wait_named(client.get("/test/bare-503")) == RETRY_AFTER_UNSAID
            assert client.post("/sandbox/_sandbox/outage", json={"service": "sms", "down": True}).status_code == 200
            outage = client.post("/sandbox/sms/messages", json={"to": MOBILE, "text": "x"})
            assert outage.status_code == 503 and "retry-after" not in outage.headers, dict(outage.headers)
    finally:
        runtime.close()
