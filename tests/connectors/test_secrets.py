"""A connector reads only the secrets named after it, in its tests exactly as in production."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.call_context import owned_secrets
from connectors.sdk import ConnectorError
from connectors.testing import connector_context, run_operation
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.connectors.plugins import TaxOffice
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT

POOL = {"tax_api_key": "tax-key", "TAX_OFFICE_TOKEN": "office-token", "api_key": "anyone's", "sms_api_key": "sms",
        "taxi_key": "taxi"}


class SharedName(TaxOffice):
    """Reads `api_key`: a name that would be every connector's if nobody filtered."""


class OwnName(TaxOffice):
    secret_name = "tax_api_key"


class UpperCaseName(TaxOffice):
    secret_name = "TAX_API_KEY"


def test_the_kit_refuses_a_secret_the_engine_would_never_hand_over() -> None:
    with pytest.raises(ConnectorError) as caught:
        run_operation(SharedName, "key", {"postal_code": "1234567890"}, secrets=POOL)

    assert caught.value.code == "secret-missing"
    assert "start with 'tax_'" in caught.value.message and "PANJEREH_SECRETS__TAX_" in caught.value.message


@pytest.mark.parametrize("connector", [OwnName, UpperCaseName])
def test_the_kit_hands_over_a_secret_named_after_the_connector(connector: type[TaxOffice]) -> None:
    assert run_operation(connector, "key", {"postal_code": "1234567890"}, secrets=POOL) == {"line": "tax-key"}


def test_a_missing_own_secret_names_the_variable_to_set() -> None:
    with pytest.raises(ConnectorError) as caught:
        run_operation(OwnName, "key", {"postal_code": "1234567890"}, secrets={})
    assert caught.value.code == "secret-missing" and "PANJEREH_SECRETS__TAX_API_KEY" in caught.value.message


def test_secrets_go_to_a_named_connector_only() -> None:
    with pytest.raises(ValueError, match="connector_id"):
        connector_context(secrets=POOL)


def test_overlapping_ids_keep_their_own_secrets() -> None:
    assert owned_secrets("tax", POOL, ["tax", "tax_office", "sms"]) == {"tax_api_key": "tax-key"}
    assert owned_secrets("tax_office", POOL, ["tax", "tax_office", "sms"]) == {"tax_office_token": "office-token"}
    assert owned_secrets("sms", POOL) == {"sms_api_key": "sms"}


@pytest.fixture
def settings(tmp_path: Path, pg_ready: bool) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=PG_URL if pg_ready else f"sqlite:///{tmp_path / 'p.db'}",
                    processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN, sandbox=False,
                    secrets={name: SecretStr(value) for name, value in POOL.items()})


@pytest.mark.parametrize("connector_id", ["tax", "sms", "civil_registry"])
def test_the_engine_and_the_kit_hand_a_connector_the_same_secrets(runtime: Runtime, connector_id: str) -> None:
    operation = next(op for op in runtime.connectors.operations.values() if op.connector_id == connector_id)
    engine = runtime.connector_context(operation, case_id="c", purpose="p", end_user=None, attempt=1,
                                       idempotency_key="k", logger=logging.getLogger("test"))
    kit = connector_context(connector_id=connector_id, secrets=POOL)
    try:
        assert dict(engine.secrets) == dict(kit.secrets) == owned_secrets(connector_id, POOL)
    finally:
        engine.http.close()
        kit.http.close()
