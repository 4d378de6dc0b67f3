"""What every simulated agency shares: one error shape and the app that carries it.

Errors are JSON ``{"error": "<code>", "detail": "<English sentence>", ...}``; connectors branch on
``error``, never on ``detail``. FastAPI's own validation errors are reshaped the same way.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse
from pydantic import SecretStr


class AgencyError(Exception):
    """An answer other than the data: raised by a route, rendered as the JSON error body."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.body: dict[str, Any] = {"error": error, "detail": detail, **extra}
        self.headers = headers


def error_response(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


async def _agency_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AgencyError)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in jsonable_encoder(exc.errors())]
    return JSONResponse({"error": "invalid-request", "detail": "the request does not match the schema",
                         "errors": errors}, status_code=422)


def new_agency_app(title: str, description: str) -> FastAPI:
    """A FastAPI app for one agency, with its own OpenAPI page (``<prefix>/docs``)."""
    app = FastAPI(title=title, description=description, version="sandbox")
    app.add_exception_handler(AgencyError, _agency_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    return app


def bearer_key(api_key: SecretStr) -> list[DependsParam]:
    """Route dependencies that refuse a request without ``Authorization: Bearer <api_key>`` (401,
    compared in constant time), as a gateway's API keys are checked."""
    expected = f"Bearer {api_key.get_secret_value()}".encode()

    def authorised(request: Request) -> None:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise AgencyError(401, "unauthorized", "send Authorization: Bearer <key>",
                              headers={"WWW-Authenticate": "Bearer"})

    return [Depends(authorised)]
