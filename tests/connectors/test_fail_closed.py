"""Outside development, a connector nobody gave an address is never called and never answers.

The server here runs as in production while the simulated agencies are up at its public
URL, where an address made up from that URL would reach them: a call that got through
would show in their request counts, or as an answer in the case.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from engine.app import build_app
from engine.db.models import SignInChallenge
from engine.services.deployments import UploadedFile, check
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.connectors.flows import case, deploy, spiff_operator, start, with_fallback
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, Tokens
from tests.web.journey import csrf

PRODUCTION_KEY = "production-secret-key-for-tests-0123456789"
# What the sign-in page says, in Persian (the portal's default language).
SIGN_IN = tomllib.loads((ROOT / "forms" / "locale" / "fa.toml").read_text(encoding="utf-8"))["signin"]


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, pg_ready: bool, agencies: str) -> Settings:
    """Production, with the connectors configured as the test asks (`indirect` parameter; "{agencies}"
    in an address is where the simulated agencies are) and no others."""
    extra: dict[str, Any] = dict(getattr(request, "param", {}))
    extra["connectors"] = {name: {key: value.format(agencies=agencies) for key, value in section.items()}
                           for name, section in extra.get("connectors", {}).items()}
    return Settings(environment="production", secret_key=PRODUCTION_KEY, var_dir=tmp_path / "var",
                    database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'panjereh.db'}",
                    processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN, public_url=agencies,
                    connector_timeout_seconds=5, **{"secrets": {"sms_api_key": "the-real-gateway-key"}, **extra})


def requests_to(agencies: str, service: str) -> int:
    """How many requests one simulated agency has had so far."""
    count: int = httpx.get(f"{agencies}/sandbox/_sandbox/status").json()["services"][service]["requests"]
    return count


def test_a_connector_without_an_address_opens_an_incident_and_reaches_nobody(
        client: TestClient, tokens: Tokens, runtime: Runtime, agencies: str) -> None:
    model = with_fallback("lookup", spiff_operator("civil_registry/person_by_national_code",
                                                   {"national_code": "national_code"}))
    assert deploy(client, tokens, model).status_code == 201
    asked = requests_to(agencies, "civil_registry")

    found = case(runtime, start(client, tokens, "lookup", {"national_code": "0013542419"}))

    assert requests_to(agencies, "civil_registry") == asked
    assert found.call.status == "incident" and found.call.attempts == 1
    assert [i.kind for i in found.incidents] == ["not-configured"]
    assert "PANJEREH_CONNECTORS__CIVIL_REGISTRY__BASE_URL" in found.incidents[0].message
    # Not an answer: the model's error path (ask the citizen for a document) is not taken.
    assert found.ready_tasks == [] and found.status == "waiting" and "answer" not in found.data
    # Nothing left the server, so no agency used the citizen's data.
    assert found.data_uses == []


@pytest.mark.parametrize("settings", [{"connectors": {"civil_registry": {"base_url": address}}}
                                      for address in ("registry.gov.example/api", "ftp://registry.gov.example",
                                                      "http://registry.gov.example:port")], indirect=True)
def test_an_address_that_is_no_url_is_an_incident_not_an_answer(client: TestClient, tokens: Tokens,
                                                                 runtime: Runtime) -> None:
    model = with_fallback("lookup", spiff_operator("civil_registry/person_by_national_code",
                                                   {"national_code": "national_code"}))
    assert deploy(client, tokens, model).status_code == 201

    found = case(runtime, start(client, tokens, "lookup", {"national_code": "0013542419"}))

    assert found.ready_tasks == []
    assert [i.kind for i in found.incidents] == ["not-configured"]
    assert "0013542419" not in found.incidents[0].message


def test_the_analyst_is_told_before_deploying(runtime: Runtime) -> None:
    model = with_fallback("lookup", spiff_operator("civil_registry/person_by_national_code",
                                                   {"national_code": "national_code"}))

    _, report = check([UploadedFile("lookup.bpmn", model)], runtime.settings, runtime.connectors)

    assert report.deployable  # the operator may set the address later
    assert any(p.element_id == "fetch" and p.severity == "warning"
               and "PANJEREH_CONNECTORS__CIVIL_REGISTRY__BASE_URL" in p.message for p in report.problems)


@pytest.mark.parametrize("settings", [{"secrets": {}, "connectors": {"sms": {"base_url": "http://gateway.invalid"}}}],
                         indirect=True)
def test_a_missing_secret_is_an_incident_not_an_error_the_model_catches(
        client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    model = with_fallback("notify", spiff_operator("sms/send", {"to": "'09121234567'", "text": "'hello'"}))
    assert deploy(client, tokens, model).status_code == 201

    found = case(runtime, start(client, tokens, "notify", {}))

    assert found.ready_tasks == []
    assert [i.kind for i in found.incidents] == ["secret-missing"]
    assert "sms_api_key" in found.incidents[0].message


def test_the_simulated_agencies_are_not_served(client: TestClient) -> None:
    assert client.get("/sandbox/_sandbox/status").status_code == 404
    assert client.get("/sandbox/civil-registry/persons/0013542419").status_code == 404


def test_the_simulated_agencies_cannot_be_switched_on() -> None:
    with pytest.raises(ValidationError, match="PANJEREH_SANDBOX"):
        Settings(environment="production", secret_key=PRODUCTION_KEY, secrets={}, sandbox=True)


@pytest.fixture
def portal(runtime: Runtime) -> Iterator[TestClient]:
    """The portal over HTTPS: outside development its session cookie is sent over HTTPS only."""
    with TestClient(build_app(runtime), base_url="https://testserver") as browser:
        yield browser


def _sign_in(client: TestClient) -> httpx.Response:
    page = client.get("/sign-in")
    return client.post("/sign-in", data={"csrf_token": csrf(page.text), "national_code": "0013542419",
                                         "mobile": "09121234567", "next": "/cases"}, follow_redirects=False)


def _challenges(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return int(session.execute(select(func.count()).select_from(SignInChallenge)).scalar_one())


def test_sign_in_fails_closed_when_the_mobile_registry_has_no_address(
        portal: TestClient, runtime: Runtime, agencies: str) -> None:
    checked, texted = requests_to(agencies, "mobile_registry"), requests_to(agencies, "sms")

    refused = _sign_in(portal)

    assert refused.status_code == 503
    assert SIGN_IN["check_failed"] in refused.text
    assert (requests_to(agencies, "mobile_registry"), requests_to(agencies, "sms")) == (checked, texted)
    assert _challenges(runtime) == 0


@pytest.mark.parametrize("settings", [{"connectors": {"mobile_registry": {
    "base_url": "{agencies}/sandbox/mobile-registry"}}}], indirect=True)
def test_sign_in_fails_closed_when_the_sms_gateway_has_no_address(portal: TestClient, agencies: str) -> None:
    checked, texted = requests_to(agencies, "mobile_registry"), requests_to(agencies, "sms")

    refused = _sign_in(portal)

    assert refused.status_code == 503
    assert SIGN_IN["sms_failed"] in refused.text
    assert requests_to(agencies, "mobile_registry") == checked + 1  # the real check was made
    assert requests_to(agencies, "sms") == texted
