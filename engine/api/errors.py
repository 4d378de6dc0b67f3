"""One error body for every refusal the API answers, the handlers that write it, and the
statuses each route documents.

Every error is `ErrorOut`: `{"detail": "...", "errors": [{"field", "message"}], "report"?,
"reference"?}`. Which statuses a route can answer follows from what it takes and does (see
`statuses_of`), so the OpenAPI lists them without anyone having to remember to. Whatever no
handler expects is a 500 with the same body: its details go to the log under a reference
that the body carries, and nothing of them to the caller.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.schemas import ErrorOut
from engine.services.deployments import DeploymentRejected, UploadTooLarge
from engine.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    ModelStopped,
    NotFound,
    Unavailable,
    Unstorable,
)
from engine.services.instance_store import record_stopped
from forms.validate import FieldError

MEANING = {
    400: "the body is not well-formed multipart form data",
    401: "no bearer token, or one that is not valid",
    403: "the token's role may not do this",
    404: "no such thing, or not one the caller may see",
    409: "the state changed under the caller (already done, or another change won the race); nothing was "
         "saved; reload and retry",
    413: "the request body is over its size limit",
    422: "the input was refused; `errors` names each field and the limit it broke (or says which kind of value "
         "the database could not keep)",
    500: "an unexpected failure; it is logged under `reference`, which the body carries; a change the request "
         "made is kept only if its commit completed, so look before sending it again",
    503: "the database is busy or unreachable; nothing was changed; retry after `Retry-After` seconds",
}
log = logging.getLogger("panjereh.errors")
# Retry-After for a 503 whose sender named no wait of its own.
RETRY_AFTER_UNSAID = 10


def documented(codes: Iterable[int]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for error `codes`, all with the one error body."""
    return {code: {"model": ErrorOut, "description": MEANING[code]} for code in sorted(codes)}


def error_body(detail: str, errors: Iterable[FieldError] = (), **extra: Any) -> dict[str, Any]:
    """The JSON of an error answer."""
    return {"detail": detail, "errors": [{"field": e.field, "message": e.message} for e in errors], **extra}


def _json(code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=code, content=body, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    if parts[:1] == ["data"]:
        parts = parts[1:]
    return ".".join(parts)


async def not_found(_: Request, err: Exception) -> JSONResponse:
    return _json(404, error_body(str(err)))


async def conflict(_: Request, err: Exception) -> JSONResponse:
    return _json(409, error_body(str(err)))


async def unavailable(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, Unavailable)
    return _json(503, error_body(str(err)), {"Retry-After": str(err.retry_after)})


async def unstorable(_: Request, err: Exception) -> JSONResponse:
    return _json(422, error_body(str(err), [FieldError("", str(err))]))


async def model_stopped(request: Request, err: Exception) -> JSONResponse:
    """The model's code was stopped in its worker: the instance fails with an incident (in a
    transaction of its own, the request's was rolled back) and the caller is told."""
    if isinstance(err, ModelStopped):
        await run_in_threadpool(partial(record_stopped, request.app.state.runtime, err, quietly=True))
    return _json(422, error_body(str(err)))


async def unexpected(request: Request, err: Exception) -> JSONResponse:
    """A failure no handler expects: logged with its traceback under a new reference."""
    reference = uuid.uuid4().hex[:12]
    log.error("unexpected failure %s on %s %s", reference, request.method, request.url.path, exc_info=err)
    return _json(500, error_body(f"the server failed unexpectedly; the failure is logged under reference "
                                 f"{reference}", reference=reference))


async def http_error(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, HTTPException)
    return _json(err.status_code, error_body(str(err.detail)), dict(err.headers or {}))


class RetryAfter:
    """Every 503 this application sends says when to come back.

    The handlers that answer 503 (a busy or unreachable database, an agency that sign-in needs)
    set their own `Retry-After`; this is the net under them, for any other 503, so that a
    client or a load balancer is never left to guess. Answers of applications mounted inside
    this one (the simulated agencies, whose outages say what they say) are left as they are.
    """

    def __init__(self, app: ASGIApp, seconds: int = RETRY_AFTER_UNSAID) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Starlette writes the application that is answering into the scope, so a mounted
        # one shows here as a different app.
        own = scope.get("app")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 503 and scope.get("app") is own:
                headers = MutableHeaders(scope=message)
                if "retry-after" not in headers:
                    headers["Retry-After"] = str(self.seconds)
            await send(message)

        await self.app(scope, receive, sending)


def install(app: FastAPI) -> None:
    """Map every error the routes and services raise to its status and the one body."""

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, err: Forbidden) -> JSONResponse:
        return _json(403, error_body(str(err)))

    @app.exception_handler(InvalidInput)
    async def invalid(_: Request, err: InvalidInput) -> JSONResponse:
        return _json(422, error_body(str(err), err.errors))

    @app.exception_handler(RequestValidationError)
    async def malformed(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = [FieldError(_field(tuple(e.get("loc", ()))), str(e.get("msg", ""))) for e in err.errors()]
        return _json(422, error_body("the request does not have the expected shape", errors))

    @app.exception_handler(DeploymentRejected)
    async def rejected(_: Request, err: DeploymentRejected) -> JSONResponse:
        return _json(422, error_body(f"not deployable: {err}", report=err.report.as_dict()))

    @app.exception_handler(UploadTooLarge)
    async def too_large(_: Request, err: UploadTooLarge) -> JSONResponse:
        return _json(413, error_body(str(err)))

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(Conflict, conflict)
    app.add_exception_handler(Unavailable, unavailable)
    app.add_exception_handler(Unstorable, unstorable)
    app.add_exception_handler(ModelStopped, model_stopped)
    app.add_exception_handler(HTTPException, http_error)
    # Starlette gives the handler for Exception to its outermost middleware, which also
    # catches what the other handlers raise.
    app.add_exception_handler(Exception, unexpected)
