"""Loading plugins through entry points (never fatal), and calling operations with both sides checked."""

import logging
from importlib.metadata import EntryPoint
from types import SimpleNamespace

import httpx
import pytest

from connectors.registry import GROUP, Operation, Registry, load_registry
from connectors.sdk import ConnectorError
from connectors.testing import FakeAgency, connector_context

CONFIG = {"civil_registry": {"base_url": "http://registry.test"}}


def ep(name, target, group=GROUP):
    return EntryPoint(name, f"tests.connectors.plugins:{target}" if ":" not in target else target, group)


GOOD = [ep("civil_registry", "CivilRegistry"), ep("post", "Post")]


def load(*extra, **options):
    return load_registry(entry_points=[*GOOD, *extra], config=CONFIG, **options)


def test_installed_connectors_load_with_their_operations():
    registry = load()

    assert registry.problems == []
    assert sorted(registry.operations) == ["civil_registry/person", "post/address"]
    assert sorted(registry.connectors) == ["civil_registry", "post"]
    assert registry.connectors["civil_registry"].config == {"base_url": "http://registry.test"}
    person = registry.get("civil_registry/person")
    assert person is not None
    assert (person.id, person.agency, person.personal_fields) == (
        "civil_registry/person", "civil_registration", ("first_name", "last_name", "born"))
    assert person.title == {"fa": "استعلام فرد", "en": "Person by national code"}
    assert registry.get("civil_registry/helper") is None


def test_entry_points_of_other_groups_are_not_connectors():
    registry = load(ep("post_too", "Post", group="something.else"))
    assert "post_too" not in registry.connectors


def test_allow_list_loads_only_what_it_names():
    registry = load(allow=["post"])
    assert sorted(registry.connectors) == ["post"]
    assert registry.excluded == ["civil_registry"]
    assert registry.problems == []


def test_deny_list_wins_over_allow_list():
    registry = load(allow=["post", "civil_registry"], deny=["civil_registry"])
    assert sorted(registry.connectors) == ["post"]


def test_an_allowed_connector_that_is_not_installed_is_a_problem():
    registry = load(allow=["post", "tax_office"])
    assert sorted(registry.connectors) == ["post"]
    assert registry.problems == ["tax_office: is on the allow list but no installed package registers it"]


@pytest.mark.parametrize(("name", "target", "reason"), [
    ("ghost", "panjereh_no_such_module:Ghost", "cannot be imported from panjereh_no_such_module:Ghost"),
    ("missing_class", "tests.connectors.plugins:NoSuchClass", "cannot be imported"),
    ("from_the_future", "FromTheFuture", "connector API 2; this Panjereh speaks 1"),
    ("misnamed", "Misnamed", "id 'something_else' differs from its entry-point name 'misnamed'"),
    ("no_farsi_title", "NoFarsiTitle", "title has no 'fa' text"),
    ("untyped", "UntypedOperation", "the parameters are not typed with a pydantic model"),
    ("dict_result", "DictResult", "the result is not typed with a pydantic model"),
    ("extra_argument", "ExtraArgument", "must be `def lookup(self, ctx: ConnectorContext, params:"),
    ("wrong_personal_field", "WrongPersonalField", "personal fields ['phone'] are not fields of Address"),
    ("no_operations", "NoOperations", "declares no @operation"),
    ("no_schema", "NoSchema", "the parameters have no JSON Schema"),
    ("async_operation", "AsyncOperation", "not async"),
    ("fails_to_start", "FailsToStart", "failed to start: RuntimeError: no base_url"),
    ("not_a_connector", "NotAConnector", "is not a subclass of connectors.sdk.Connector"),
])
def test_a_broken_plugin_is_skipped_with_its_reason_and_the_rest_load(name, target, reason, caplog):
    with caplog.at_level(logging.WARNING, logger="connectors.registry"):
        registry = load(ep(name, target))

    assert sorted(registry.connectors) == ["civil_registry", "post"]
    assert name not in registry.connectors
    assert not any(op.startswith(f"{name}/") for op in registry.operations)
    assert len(registry.problems) == 1
    assert registry.problems[0].startswith(f"{name}: ")
    assert reason in registry.problems[0]
    assert f"connector plugin {name} skipped" in caplog.text


def test_two_packages_claiming_one_id_both_stay_out():
    registry = load(ep("post", "tests.connectors.plugins:Misnamed"))
    assert "post" not in registry.connectors
    assert "registered 2 times" in registry.problems[0]
    assert "civil_registry" in registry.connectors


def test_the_real_entry_points_are_read_when_none_are_given(monkeypatch):
    import connectors.registry as module

    installed = SimpleNamespace(entry_points=lambda group: [ep("post", "Post", group=group)])
    monkeypatch.setattr(module, "metadata", installed)
    assert sorted(load_registry().operations) == ["post/address"]


# Calling operations --------------------------------------------------------------------

@pytest.fixture
def registry() -> Registry:
    return load(ep("misbehaving", "Misbehaving"))


@pytest.fixture
def agency():
    return FakeAgency()


@pytest.fixture
def ctx(agency):
    context = connector_context(agency, case_id="case-1", purpose="business_permit")
    yield context
    context.http.close()


def person(registry) -> Operation:
    op = registry.get("civil_registry/person")
    assert op is not None
    return op


def test_a_call_validates_runs_and_returns_json_data(registry, ctx, agency):
    agency.answer("GET", "/persons/0012345678",
                  json={"first_name": "Sara", "last_name": "Ahmadi", "born": "1990-03-21", "alive": True})

    result = person(registry).call(ctx, {"national_code": "0012345678"})

    assert result == {"first_name": "Sara", "last_name": "Ahmadi", "born": "1990-03-21", "alive": True}
    assert agency.last.url == "http://registry.test/persons/0012345678"
    assert agency.last.headers["X-Panjereh-Case"] == "case-1"


def test_parameters_that_do_not_fit_are_refused_before_any_request(registry, ctx, agency):
    with pytest.raises(ConnectorError) as caught:
        person(registry).call(ctx, {"national_code": "12ab", "channel": "fax", "nickname": "S"})

    error = caught.value
    assert (error.code, error.retryable) == ("bad-params", False)
    assert "national_code: String should match pattern" in error.message
    assert "channel:" in error.message
    assert "nickname: not a parameter of civil_registry/person" in error.message
    assert "12ab" not in error.message  # values may be personal data; logs get field names only
    assert agency.requests == []


def test_check_params_lists_problems_for_deploy_time(registry):
    op = person(registry)
    assert op.check_params({"national_code": "0012345678", "year": 1402}) == []
    problems = op.check_params({"year": 1200, "typo": 1})
    assert problems[0] == "typo: not a parameter of civil_registry/person"
    assert any(p.startswith("national_code: Field required") for p in problems)
    assert any(p.startswith("year: Input should be greater than or equal to 1300") for p in problems)


def test_an_answer_that_breaks_the_result_model_is_a_retryable_error(registry, ctx):
    with pytest.raises(ConnectorError) as caught:
        registry.get("misbehaving/wrong_result").call(ctx, {"postal_code": "1234567890"})
    assert (caught.value.code, caught.value.retryable) == ("bad-result", True)
    assert "last_name: Field required" in caught.value.message


def test_a_plain_dict_answer_is_checked_like_a_model(registry, ctx):
    assert registry.get("misbehaving/dict_answer").call(ctx, {"postal_code": "1234567890"}) == {"line": "from a dict"}


def test_a_connector_error_reaches_the_engine_as_raised(registry, ctx, agency):
    agency.answer("GET", "/persons/0012345678", status=404)
    with pytest.raises(ConnectorError) as caught:
        person(registry).call(ctx, {"national_code": "0012345678"})
    assert (caught.value.code, caught.value.retryable) == ("not-found", False)


def test_a_secret_reaches_the_operation(registry, agency):
    ctx = connector_context(agency, connector_id="misbehaving", secrets={"misbehaving_api_key": "xy9"})
    try:
        assert registry.get("misbehaving/needs_secret").call(ctx, {"postal_code": "1234567890"}) == {"line": "xy"}
    finally:
        ctx.http.close()


@pytest.mark.parametrize(("answer", "code", "retryable", "retry_after"), [
    (httpx.Response(503, headers={"Retry-After": "120"}), "agency-unavailable", True, 120.0),
    (httpx.Response(429), "agency-busy", True, None),
    (httpx.Response(403), "agency-refused", False, None),
    (httpx.Response(422), "agency-rejected", False, None),
    (httpx.ConnectTimeout("slow"), "agency-timeout", True, None),
    (httpx.ReadTimeout("slow"), "agency-timeout", True, None),
    (httpx.ConnectError("refused"), "agency-unreachable", True, None),
])
def test_http_failures_become_connector_errors(registry, ctx, agency, answer, code, retryable, retry_after):
    def respond(request):
        if isinstance(answer, Exception):
            raise answer
        return answer

    agency.respond("GET", "/persons/0012345678", respond)
    with pytest.raises(ConnectorError) as caught:
        person(registry).call(ctx, {"national_code": "0012345678"})

    assert (caught.value.code, caught.value.retryable, caught.value.retry_after) == (code, retryable, retry_after)
    assert "0012345678" not in caught.value.message
    assert isinstance(caught.value.__cause__, httpx.HTTPError)


def test_a_bug_in_a_connector_propagates_for_the_engine_to_report(registry, ctx):
    with pytest.raises(KeyError):
        registry.get("misbehaving/bug").call(ctx, {"postal_code": "1234567890"})


def test_schemas_describe_parameters_and_result(registry):
    op = person(registry)
    params, result = op.params_schema(), op.result_schema()
    assert params["required"] == ["national_code"]
    assert params["properties"]["national_code"]["pattern"] == r"^\d{10}$"
    assert result["properties"]["born"] == {"format": "date", "title": "Born", "type": "string"}


def test_an_unbound_operation_cannot_be_called(registry, ctx):
    op = person(registry)
    unbound = Operation(connector_id=op.connector_id, name=op.name, title=op.title, description=op.description,
                        agency=op.agency, params_model=op.params_model, result_model=op.result_model,
                        personal_fields=op.personal_fields)
    assert unbound == op  # the handler is no part of what an operation is
    with pytest.raises(ConnectorError):
        unbound.call(ctx, {"national_code": "0012345678"})
