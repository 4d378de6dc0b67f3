"""The sample connector's own tests: only the kit's fixtures, no conftest."""

import httpx
import pytest
from panjereh_sample_connector import WeatherOffice

from connectors.sdk import ConnectorError

CONFIG = {"base_url": "http://weather.test/api"}
SECRETS = {"weather_office_token": "t0ken"}


def test_keeps_the_contract(connector_kit):
    assert connector_kit.check_contract(WeatherOffice) == []


def test_is_discoverable(connector_kit):
    assert connector_kit.check_discoverable("weather_office") == []


def test_forecast(connector_kit, fake_agency):
    fake_agency.answer("GET", "/api/forecast", json={"city": "Tabriz", "celsius": 21.5, "summary": "sunny"})

    result = connector_kit.run(WeatherOffice, "forecast", {"city": "Tabriz", "days": "2"}, fake_agency,
                               config=CONFIG, secrets=SECRETS, case_id="case-42")

    assert result == {"city": "Tabriz", "celsius": 21.5, "summary": "sunny"}
    sent = fake_agency.last
    assert sent.url.params["days"] == "2"
    assert sent.headers["Authorization"] == "Bearer t0ken"
    assert sent.headers["X-Panjereh-Case"] == "case-42"


def test_an_unknown_city_is_an_error_a_model_can_catch(connector_kit, fake_agency):
    with pytest.raises(ConnectorError) as caught:
        connector_kit.run(WeatherOffice, "forecast", {"city": "Atlantis"}, fake_agency, config=CONFIG, secrets=SECRETS)
    assert (caught.value.code, caught.value.retryable) == ("unknown-city", False)


def test_a_slow_office_is_retried(connector_kit, fake_agency):
    def too_slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    fake_agency.respond("GET", "/api/forecast", too_slow)
    with pytest.raises(ConnectorError) as caught:
        connector_kit.run(WeatherOffice, "forecast", {"city": "Tabriz"}, fake_agency, config=CONFIG, secrets=SECRETS)
    assert (caught.value.code, caught.value.retryable) == ("agency-timeout", True)


def test_digits_are_no_city(connector_kit):
    with pytest.raises(ConnectorError) as caught:
        connector_kit.run(WeatherOffice, "forecast", {"city": "12"}, config=CONFIG, secrets=SECRETS)
    assert caught.value.code == "bad-params"
    assert "city" in caught.value.message


def test_reads_only_the_secrets_named_after_it(connector_kit, fake_agency):
    # As in production: a connector gets PANJEREH_SECRETS__WEATHER_OFFICE_... and nothing else.
    with pytest.raises(ConnectorError) as caught:
        connector_kit.run(WeatherOffice, "forecast", {"city": "Tabriz"}, fake_agency, config=CONFIG,
                          secrets={"token": "t0ken", "sms_api_key": "not-ours"})
    assert caught.value.code == "secret-missing"
    assert fake_agency.requests == []
