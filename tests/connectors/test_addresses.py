"""Where connectors call: the configured address, the simulated agency in development, or nowhere.

The suite's default settings are development with the simulated agencies served at the
public URL, which is exactly where an address made up for any connector would lead.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.connectors.flows import case, deploy, spiff_operator, start, with_fallback
from tests.connectors.test_sample_package import sample_installed  # noqa: F401 - a fixture
from tests.fixtures import Tokens


@pytest.mark.usefixtures("sample_installed")
def test_a_third_party_connector_without_an_address_is_not_sent_to_the_sandbox(
        client: TestClient, tokens: Tokens, runtime: Runtime) -> None:
    model = with_fallback("forecast", spiff_operator("weather_office/forecast", {"city": "'Tabriz'"}))
    assert deploy(client, tokens, model).status_code == 201

    found = case(runtime, start(client, tokens, "forecast", {}))

    # Not "not-found" from a 404 at <public url>/sandbox/weather-office, caught by the model
    # as if the weather office had no forecast: an incident naming the missing setting.
    assert found.ready_tasks == []
    assert [i.kind for i in found.incidents] == ["not-configured"]
    assert "PANJEREH_CONNECTORS__WEATHER_OFFICE__BASE_URL" in found.incidents[0].message


def test_in_development_the_simulated_agencies_are_the_default_addresses() -> None:
    settings = Settings(public_url="http://demo.test:9000/")

    assert settings.connector_config("civil_registry") == {"base_url": "http://demo.test:9000/sandbox/civil-registry"}
    assert settings.connector_config("weather_office") == {}


def test_a_configured_address_wins_whatever_the_case_of_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANJEREH_CONNECTORS__CIVIL_REGISTRY__BASE_URL", "https://registry.gov.example/api")
    monkeypatch.setenv("PANJEREH_CONNECTORS__WEATHER_OFFICE__BASE_URL", "https://weather.example")

    settings = Settings()

    assert settings.connector_config("civil_registry") == {"base_url": "https://registry.gov.example/api"}
    assert settings.connector_config("weather_office") == {"base_url": "https://weather.example"}


@pytest.mark.parametrize("environment", [{"sandbox": False}, {"environment": "production", "secrets": {},
                                                              "secret_key": "a-real-secret-0123456789"}])
def test_without_the_simulated_agencies_no_address_is_made_up(environment: dict[str, object]) -> None:
    settings = Settings(public_url="http://demo.test:9000", **environment)  # type: ignore[arg-type]

    assert not settings.sandbox_enabled
    assert settings.connector_config("civil_registry") == {}
    assert settings.connector_config("sms") == {}


@pytest.mark.parametrize("host, port, expected", [
    ("127.0.0.1", 9000, "http://127.0.0.1:9000"),
    ("0.0.0.0", 8123, "http://127.0.0.1:8123"),
    ("::", 8123, "http://[::1]:8123"),
    ("::1", 8123, "http://[::1]:8123"),
    ("localhost", 80, "http://localhost:80"),
    ("10.1.2.3", 8000, "http://10.1.2.3:8000"),
])
def test_the_public_url_is_where_the_server_listens(host: str, port: int, expected: str) -> None:
    assert Settings(host=host, port=port).base_url == expected
    assert Settings(host=host, port=port, public_url="https://panjereh.gov.example/").base_url == (
        "https://panjereh.gov.example")
