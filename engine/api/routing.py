"""The route class every API route uses: it checks the caller and the input before FastAPI
parses anything, and documents the error statuses the route can answer.

In that order: who calls (401, 403), then parameters, then the body. A caller without a
valid token never has a body read or parsed. Parsing and checking a JSON body is CPU work in
proportion to its size, up to a megabyte: it runs in a worker thread of its own small pool,
so the event loop (and with it `/health` and every other request) never waits for it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from engine.api import errors, inputs
from engine.api.deps import AUTHENTICATED, BEARER, PUBLIC, RoleGuard, authenticate, get_principal, get_writer
from engine.services.errors import InvalidInput
from engine.services.runtime import Runtime

# Bodies checked at once; the others wait their turn without holding a thread. The work holds
# the GIL, so a second checker adds no throughput, only a second busy thread for the event
# loop to win the GIL back from: with two, /health answered every 50-100 ms under a stream of
# megabyte bodies, with one every 10 ms.
BODY_CHECKERS = 1


class _CheckedRequest(Request):
    """A request whose body was read within its limit and, if JSON, parsed and checked."""

    def __init__(self, original: Request, body: bytes, value: Any) -> None:
        super().__init__(original.scope, original.receive)
        self._checked_body = body
        self._checked_value = value

    async def body(self) -> bytes:
        return self._checked_body

    async def json(self) -> Any:
        return self._checked_value


class ApiRoute(APIRoute):
    """An API route: bounded input, and every error status it can answer in its OpenAPI."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        declared = kwargs.get("responses") or {}
        documented = errors.documented(statuses_of(path, endpoint, kwargs))
        for code, entry in declared.items():
            documented[code] = {**documented.get(code, {}), **entry}
        kwargs["responses"] = documented
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        field = self.body_field
        reads_body = field is not None and not isinstance(field.field_info, params.Form)
        authenticates = any(d.call is get_principal for d in _walk(self.dependant))
        guards = [d.dependency for d in self.dependencies if isinstance(d.dependency, RoleGuard)]

        async def checked(request: Request) -> Response:
            runtime = _runtime(request)
            if authenticates:
                principal = await run_in_threadpool(authenticate, runtime, await BEARER(request))
                for guard in guards:
                    guard(principal)
                setattr(request.state, AUTHENTICATED, principal)
            problems = inputs.parameter_problems(request.path_params, iter(request.query_params.multi_items()))
            if problems:
                raise InvalidInput(problems)
            if reads_body:
                settings = runtime.settings
                body = await inputs.read_body(request, settings.max_data_bytes + inputs.ENVELOPE_BYTES)
                value = None
                if body and inputs.is_json(request.headers):
                    value = await to_thread.run_sync(inputs.parse_json, body, settings.max_data_depth,
                                                     limiter=_body_checkers(request))
                request = _CheckedRequest(request, body, value)
            return await handle(request)

        return checked


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _body_checkers(request: Request) -> CapacityLimiter:
    # Made on first use, inside the event loop that will wait on it.
    state = request.app.state
    if getattr(state, "body_checkers", None) is None:
        state.body_checkers = CapacityLimiter(BODY_CHECKERS)
    limiter: CapacityLimiter = state.body_checkers
    return limiter


def statuses_of(path: str, endpoint: Callable[..., Any], route: dict[str, Any]) -> set[int]:
    """The error statuses a route can answer, from what it takes and what it depends on.

    Every route can fail unexpectedly (500) and find the database busy or gone (503); a
    guarded one refuses unknown tokens (401) and other roles (403); one with path parameters
    names something that may not exist (404); parameters and bodies can be refused (422),
    bodies can be too large (413), multipart bodies malformed (400); a route that writes can
    lose a race (409).
    """
    dependant = get_dependant(path=path, call=endpoint)
    found = {500, 503}
    if (route.get("openapi_extra") or {}).get("x-roles") != [PUBLIC] or any(
            isinstance(d.dependency, RoleGuard) for d in route.get("dependencies") or ()):
        found |= {401, 403}
    every = list(_walk(dependant))
    if any(d.path_params for d in every):
        found |= {404, 422}
    if any(d.query_params for d in every):
        found.add(422)
    bodies = [field for d in every for field in d.body_params]
    if bodies:
        found |= {413, 422}
    if any(isinstance(field.field_info, params.Form) for field in bodies):
        found.add(400)
    if any(d.call is get_writer for d in every):
        found |= {409, 422}
    return found


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def router(prefix: str, tag: str) -> APIRouter:
    """A router whose routes are `ApiRoute`s."""
    return APIRouter(prefix=prefix, tags=[tag], route_class=ApiRoute)
