"""The route class every API route uses: it checks input before FastAPI parses it, and
documents the error statuses the route can answer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import APIRouter, params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from engine.api import errors, inputs
from engine.api.deps import PUBLIC, RoleGuard, get_writer
from engine.services.errors import InvalidInput
from engine.services.runtime import Runtime


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

        async def checked(request: Request) -> Response:
            problems = inputs.parameter_problems(request.path_params, iter(request.query_params.multi_items()))
            if problems:
                raise InvalidInput(problems)
            if reads_body:
                settings = _runtime(request).settings
                body = await inputs.read_body(request, settings.max_data_bytes + inputs.ENVELOPE_BYTES)
                value = inputs.parse_json(body, settings.max_data_depth) if body and inputs.is_json(
                    request.headers) else None
                request = _CheckedRequest(request, body, value)
            return await handle(request)

        return checked


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def statuses_of(path: str, endpoint: Callable[..., Any], route: dict[str, Any]) -> set[int]:
    """The error statuses a route can answer, from what it takes and what it depends on.

    Every route can find the database busy or gone (503); a guarded one refuses unknown
    tokens (401) and other roles (403); one with path parameters names something that may
    not exist (404); parameters and bodies can be refused (422), bodies can be too large
    (413), multipart bodies malformed (400); a route that writes can lose a race (409).
    """
    dependant = get_dependant(path=path, call=endpoint)
    found = {503}
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
