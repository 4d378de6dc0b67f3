"""The plugin author's surface: errors, the context's secrets, connector settings, the SDK's isolation."""

import logging
import pickle
import subprocess
import sys
from typing import ClassVar

import httpx
import pytest

import connectors.sdk as sdk
from connectors.sdk import API_VERSION, Connector, ConnectorContext, ConnectorError, operation


def test_the_sdk_exports_exactly_its_api():
    assert sorted(sdk.__all__) == ["API_VERSION", "Connector", "ConnectorContext", "ConnectorError", "operation"]
    assert API_VERSION == 1


def test_connector_error_carries_what_the_engine_decides_on():
    error = ConnectorError("agency-busy", "try later", retryable=True, retry_after=30)

    assert (error.code, error.message, error.retryable, error.retry_after) == ("agency-busy", "try later", True, 30)
    assert str(error) == "agency-busy: try later"
    assert error.as_dict() == {"code": "agency-busy", "message": "try later", "retryable": True, "retry_after": 30}


def test_connector_error_defaults_to_final():
    error = ConnectorError("not-found", "nobody")
    assert (error.retryable, error.retry_after) == (False, None)


def test_connector_error_survives_pickling():
    copy = pickle.loads(pickle.dumps(ConnectorError("agency-busy", "later", retryable=True, retry_after=2.5)))
    assert (type(copy), copy.code, copy.message, copy.retryable, copy.retry_after) == (
        ConnectorError, "agency-busy", "later", True, 2.5)


@pytest.mark.parametrize("kwargs", [{"code": "", "message": "x"}, {"code": "x", "message": "y", "retry_after": -1}])
def test_connector_error_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        ConnectorError(**kwargs)


def _context(secrets):
    return ConnectorContext(http=httpx.Client(), case_id="c", purpose="p", end_user=None, attempt=1,
                            idempotency_key="k", logger=logging.getLogger("t"), secrets=secrets)


def test_a_secret_is_read_by_name():
    ctx = _context({"post_api_key": "s3cret"})
    assert ctx.secret("post_api_key") == "s3cret"
    assert "s3cret" not in repr(ctx)
    ctx.http.close()


def test_a_missing_secret_is_a_final_error():
    ctx = _context({})
    with pytest.raises(ConnectorError) as caught:
        ctx.secret("post_api_key")
    assert (caught.value.code, caught.value.retryable) == ("secret-missing", False)
    ctx.http.close()


def test_a_connector_keeps_its_config_and_names_a_missing_setting():
    class Weather(Connector):
        id = "weather"
        title: ClassVar[dict[str, str]] = {"fa": "هوا", "en": "Weather"}
        agency = "met"

    connector = Weather({"base_url": "http://w.test"})
    assert connector.setting("base_url") == "http://w.test"
    assert connector.api_version == API_VERSION
    with pytest.raises(ConnectorError) as caught:
        connector.setting("token")
    assert caught.value.code == "not-configured"
    assert "PANJEREH_CONNECTORS__WEATHER__TOKEN" in caught.value.message


def test_operation_fields_must_be_a_list_of_names():
    with pytest.raises(TypeError):
        operation(title={"fa": "الف", "en": "A"}, fields="first_name")


def test_the_sdk_imports_nothing_of_the_engine():
    code = ("import sys, connectors.sdk; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('engine', 'forms', 'sqlalchemy', 'fastapi')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
