"""A test kit for connector authors, loaded by pytest as the ``panjereh_connectors`` plugin.

Installing Panjereh registers this module under pytest's ``pytest11`` entry point, so every
test suite in that environment gets its fixtures without a conftest:

- ``fake_agency``: a `FakeAgency` to answer the connector's HTTP requests and record them;
- ``connector_kit``: the helpers below, closing what they opened when the test ends.

The helpers also work on their own: `connector_context`, `run_operation`, `check_contract`
and `check_discoverable`.

pytest imports this module in every run of the environment, whether or not it tests a
connector, so it imports nothing beyond the standard library and pytest until a helper is
used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import logging

    import httpx

    from connectors.sdk import Connector, ConnectorContext

    Handler = Callable[[httpx.Request], httpx.Response]

__all__ = ["ConnectorKit", "FakeAgency", "check_contract", "check_discoverable", "connector_context",
           "run_operation"]


def _no_http(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the test expected no HTTP request, but the connector sent {request.method} {request.url}")


def connector_context(handler: Handler | None = None, *, connector_id: str = "", case_id: str = "case-test",
                      purpose: str = "test", end_user: str | None = None, attempt: int = 1,
                      idempotency_key: str = "test-idempotency-key", secrets: Mapping[str, str] | None = None,
                      timeout: float = 5.0, logger: logging.Logger | None = None) -> ConnectorContext:
    """A context like the engine's, whose requests go to `handler` instead of the network.

    `handler` takes an ``httpx.Request`` and returns an ``httpx.Response`` (a `FakeAgency`
    does); without one, any request fails the test. `secrets` are filtered for
    `connector_id` exactly as in production: the context keeps only names starting with
    ``<connector_id>_`` (so `connector_id` is required with them). Close ``ctx.http`` when
    done, or use the ``connector_kit`` fixture, which does.
    """
    import httpx

    from connectors.call_context import make_context

    return make_context(timeout=timeout, transport=httpx.MockTransport(handler or _no_http), case_id=case_id,
                        purpose=purpose, end_user=end_user, attempt=attempt, idempotency_key=idempotency_key,
                        connector_id=connector_id, secrets=secrets, logger=logger)


def run_operation(connector_cls: type[Connector], operation: str, params: Mapping[str, Any],
                  handler: Handler | None = None, *, config: Mapping[str, str] | None = None,
                  **context: Any) -> dict[str, Any]:
    """Run one operation the way the engine does: contract checked, required settings present,
    secrets filtered by the connector's id, parameters and result validated.

    Returns the result as the process would receive it (JSON data). A `ConnectorError`
    propagates, so test failures with ``pytest.raises(ConnectorError)``. Keyword arguments
    beyond `config` go to `connector_context` (``secrets=``, ``end_user=``, ``attempt=`` ...).

    Raises:
        AssertionError: when the class breaks the connector contract or has no such operation.
    """
    from connectors.registry import bind, inspect_connector

    operations, problems = inspect_connector(connector_cls)
    if problems:
        raise AssertionError(f"{connector_cls.__name__} breaks the connector contract: " + "; ".join(problems))
    found = {op.name: op for op in operations}
    if operation not in found:
        raise AssertionError(f"{connector_cls.__name__} has no operation {operation!r}; it has {sorted(found)}")
    op = bind(found[operation], connector_cls(dict(config or {})))
    ctx = connector_context(handler, connector_id=connector_cls.id, **context)
    try:
        return op.call(ctx, params)
    finally:
        ctx.http.close()


def check_contract(connector_cls: type[Connector]) -> list[str]:
    """Every way `connector_cls` breaks the connector contract; [] when it keeps it.

    Checks the id, the titles in Persian and English, the agency, the API version, that
    every operation is typed with pydantic models whose JSON Schemas serialise, that the
    personal fields exist, and that modeler templates can be made from it. Use it as
    ``assert check_contract(MyConnector) == []``, which shows the problems when it fails.
    """
    from connectors.registry import Registry, bind, inspect_connector
    from connectors.templates import command_catalogue, element_templates

    operations, problems = inspect_connector(connector_cls)
    if problems:
        return problems
    try:
        connector = connector_cls({})
    except Exception as error:
        return [f"cannot be created with an empty config: {type(error).__name__}: {error}"]
    registry = Registry(operations={op.id: bind(op, connector) for op in operations},
                        connectors={connector_cls.id: connector})
    try:
        for platform in ("camunda8", "camunda7"):
            for lang in ("fa", "en"):
                json.dumps(element_templates(registry, lang=lang, platform=platform))
        json.dumps(command_catalogue(registry))
    except Exception as error:
        return [f"no modeler template can be made from it: {type(error).__name__}: {error}"]
    return []


def check_discoverable(connector_id: str) -> list[str]:
    """Why `connector_id` is not found through the installed entry points; [] when it loads.

    This is the check that the package is installed and registers the connector under
    ``[project.entry-points."panjereh.connectors"]`` with the right name.
    """
    from connectors.registry import GROUP, load_registry

    registry = load_registry(allow=[connector_id])
    if connector_id in registry.connectors:
        return []
    return registry.problems or [f"no entry point {connector_id!r} in the group {GROUP!r}"]


@dataclass
class FakeAgency:
    """An agency in a test: canned answers by method and path, and a record of every request.

    Example::

        agency = FakeAgency()
        agency.answer("GET", "/forecast", json={"city": "Tabriz", "celsius": 21.5})
        run_operation(WeatherOffice, "forecast", {"city": "Tabriz"}, agency, config={"base_url": "http://w.test"})
        assert agency.last.headers["Idempotency-Key"]

    A request nobody answered gets 404, like a real server.
    """

    requests: list[httpx.Request] = field(default_factory=list)
    _answers: dict[tuple[str, str], list[Callable[[httpx.Request], httpx.Response]]] = field(default_factory=dict)

    def answer(self, method: str, path: str, *, status: int = 200, json: Any = None,
               headers: Mapping[str, str] | None = None, text: str | None = None, times: int | None = None) -> None:
        """Answer `method` `path` with this response (`times` times, or always)."""
        import httpx

        def respond(request: httpx.Request) -> httpx.Response:
            if text is not None:
                return httpx.Response(status, text=text, headers=headers)
            return httpx.Response(status, json=json, headers=headers)

        self.respond(method, path, respond, times=times)

    def respond(self, method: str, path: str, responder: Callable[[httpx.Request], httpx.Response], *,
                times: int | None = None) -> None:
        """Answer `method` `path` by calling `responder` (to raise ``httpx.ConnectTimeout``, say)."""
        queue = self._answers.setdefault((method.upper(), path), [])
        if times is None:
            queue.append(responder)
        else:
            queue.extend(_Once(responder) for _ in range(times))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        import httpx

        self.requests.append(request)
        queue = self._answers.get((request.method, request.url.path), [])
        if not queue:
            return httpx.Response(404, json={"detail": f"nothing answers {request.method} {request.url.path}"})
        responder = queue[0]
        if isinstance(responder, _Once):
            queue.pop(0)
        return responder(request)

    @property
    def last(self) -> httpx.Request:
        """The latest request; fails the test when there was none."""
        assert self.requests, "the connector sent no request"
        return self.requests[-1]


@dataclass(frozen=True)
class _Once:
    responder: Callable[[httpx.Request], httpx.Response]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.responder(request)


class ConnectorKit:
    """The helpers as one fixture; contexts it made are closed when the test ends."""

    def __init__(self) -> None:
        self._opened: list[ConnectorContext] = []

    def context(self, handler: Handler | None = None, **options: Any) -> ConnectorContext:
        """`connector_context`, closed for you at the end of the test."""
        ctx = connector_context(handler, **options)
        self._opened.append(ctx)
        return ctx

    run = staticmethod(run_operation)
    check_contract = staticmethod(check_contract)
    check_discoverable = staticmethod(check_discoverable)

    def close(self) -> None:
        for ctx in self._opened:
            ctx.http.close()
        self._opened.clear()


@pytest.fixture
def fake_agency() -> FakeAgency:
    """A fresh `FakeAgency` to pass as the HTTP handler."""
    return FakeAgency()


@pytest.fixture
def connector_kit() -> Iterator[ConnectorKit]:
    """The connector test helpers: ``.context()``, ``.run()``, ``.check_contract()``, ``.check_discoverable()``."""
    kit = ConnectorKit()
    yield kit
    kit.close()
