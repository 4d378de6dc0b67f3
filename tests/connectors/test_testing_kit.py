"""The authors' test kit: helpers, fixtures, and its registration as a pytest plugin."""

import subprocess
import sys
from importlib.metadata import EntryPoint
from types import SimpleNamespace

import pytest

import connectors.registry as registry_module
from connectors.registry import GROUP
from connectors.sdk import ConnectorError
from connectors.testing import FakeAgency, check_contract, check_discoverable, connector_context, run_operation
from tests.connectors.plugins import CivilRegistry, FromTheFuture, NoFarsiTitle, Post

CONFIG = {"base_url": "http://registry.test"}
SARA = {"first_name": "Sara", "last_name": "Ahmadi", "born": "1990-03-21", "alive": True}


def test_pytest_loads_the_kit_through_its_entry_point(request):
    plugin = request.config.pluginmanager.get_plugin("panjereh_connectors")
    assert plugin is not None, "reinstall Panjereh (pip install -e .) to register its pytest11 entry point"
    assert plugin.__name__ == "connectors.testing"


def test_the_kit_imports_nothing_heavy():
    code = ("import sys, connectors.testing; "
            "print(sorted(m for m in ('httpx', 'pydantic', 'connectors.sdk', 'connectors.registry') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_run_operation_runs_it_as_the_engine_would(fake_agency):
    fake_agency.answer("GET", "/persons/0012345678", json=SARA)

    result = run_operation(CivilRegistry, "person", {"national_code": "0012345678"}, fake_agency, config=CONFIG,
                           end_user="0012345678", attempt=2)

    assert result == SARA
    assert fake_agency.last.headers["X-Panjereh-End-User"] == "0012345678"
    assert fake_agency.last.headers["X-Panjereh-Attempt"] == "2"


def test_run_operation_lets_connector_errors_through(fake_agency):
    with pytest.raises(ConnectorError) as caught:
        run_operation(CivilRegistry, "person", {"national_code": "0012345678"}, fake_agency, config=CONFIG)
    assert caught.value.code == "not-found"


def test_run_operation_fails_the_test_for_a_broken_contract_or_an_unknown_operation():
    with pytest.raises(AssertionError, match="title has no 'fa' text"):
        run_operation(NoFarsiTitle, "address", {"postal_code": "1234567890"})
    with pytest.raises(AssertionError, match=r"no operation 'adress'; it has \['address'\]"):
        run_operation(Post, "adress", {"postal_code": "1234567890"})


def test_without_a_handler_any_request_fails_the_test():
    with pytest.raises(AssertionError, match="expected no HTTP request"):
        run_operation(CivilRegistry, "person", {"national_code": "0012345678"}, config=CONFIG)


def test_check_contract():
    assert check_contract(CivilRegistry) == []
    assert check_contract(Post) == []
    assert check_contract(NoFarsiTitle) == ["title has no 'fa' text"]
    assert "connector API 2" in check_contract(FromTheFuture)[0]


def test_check_discoverable_finds_only_what_an_entry_point_registers(monkeypatch):
    monkeypatch.setattr(registry_module, "metadata", SimpleNamespace(entry_points=lambda group: [
        EntryPoint("post", "tests.connectors.plugins:Post", GROUP),
        EntryPoint("misnamed", "tests.connectors.plugins:Misnamed", GROUP)]))

    assert check_discoverable("post") == []
    assert check_discoverable("misnamed") == [
        "misnamed: id 'something_else' differs from its entry-point name 'misnamed'"]
    assert check_discoverable("tax_office") == [
        "tax_office: is on the allow list but no installed package registers it"]


def test_fake_agency_answers_records_and_runs_out():
    agency = FakeAgency()
    agency.answer("POST", "/sms", status=202, json={"id": 1}, times=1)
    ctx = connector_context(agency)
    with ctx.http:
        first = ctx.http.post("http://sms.test/sms", json={"to": "0912"})
        second = ctx.http.post("http://sms.test/sms", json={"to": "0912"})
    assert (first.status_code, first.json()) == (202, {"id": 1})
    assert second.status_code == 404
    assert len(agency.requests) == 2
    assert agency.last.headers["Idempotency-Key"] == "test-idempotency-key"


def test_fake_agency_without_requests_has_no_last():
    with pytest.raises(AssertionError, match="sent no request"):
        FakeAgency().last


def test_the_kit_fixture_closes_the_contexts_it_made(connector_kit, fake_agency):
    fake_agency.answer("GET", "/ping", text="pong")
    ctx = connector_kit.context(fake_agency, purpose="health")
    assert ctx.http.get("http://x.test/ping").text == "pong"
    connector_kit.close()
    assert ctx.http.is_closed
    with pytest.raises(RuntimeError):
        ctx.http.get("http://x.test/ping")


def test_the_kit_fixture_offers_every_helper(connector_kit):
    assert connector_kit.check_contract(Post) == []
    assert connector_kit.run(Post, "address", {"postal_code": "1234567890"}) == {
        "line": "1234567890 Example street"}
    assert connector_kit.context(case_id="case-9").case_id == "case-9"
