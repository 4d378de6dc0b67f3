"""The FastAPI application: routers, and one place that turns errors into responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError

from engine.api.routes import connectors, deployments, messages, operations, processes, tasks, uploads
from engine.services.deployments import DeploymentRejected, UploadTooLarge
from engine.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.services.runtime import Runtime


def _json(code: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=code, content=body)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    if parts[:1] == ["data"]:
        parts = parts[1:]
    return ".".join(parts)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_: Request, err: NotFound) -> JSONResponse:
        return _json(status.HTTP_404_NOT_FOUND, {"detail": str(err)})

    @app.exception_handler(Conflict)
    async def conflict(_: Request, err: Conflict) -> JSONResponse:
        return _json(status.HTTP_409_CONFLICT, {"detail": str(err)})

    @app.exception_handler(StaleDataError)
    async def stale(_: Request, err: StaleDataError) -> JSONResponse:
        return _json(status.HTTP_409_CONFLICT, {"detail": "changed by someone else at the same time; retry"})

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, err: Forbidden) -> JSONResponse:
        return _json(status.HTTP_403_FORBIDDEN, {"detail": str(err)})

    @app.exception_handler(InvalidInput)
    async def invalid(_: Request, err: InvalidInput) -> JSONResponse:
        return _json(422, {"detail": str(err),
                           "errors": [{"field": e.field, "message": e.message} for e in err.errors]})

    @app.exception_handler(RequestValidationError)
    async def malformed(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
                  for e in err.errors()]
        return _json(422, {"detail": "the request does not have the expected shape", "errors": errors})

    @app.exception_handler(DeploymentRejected)
    async def rejected(_: Request, err: DeploymentRejected) -> JSONResponse:
        return _json(422, {"detail": f"not deployable: {err}", "report": err.report.as_dict()})

    @app.exception_handler(UploadTooLarge)
    async def too_large(_: Request, err: UploadTooLarge) -> JSONResponse:
        return _json(413, {"detail": str(err)})


def _install_body_cap(app: FastAPI, limit: int) -> None:
    # Refuse an oversized request before its body is read: multipart uploads are spooled to
    # disk by the framework, so checking file sizes afterwards would be too late.
    @app.middleware("http")
    async def cap(request: Request, call_next: Any) -> Any:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return _json(413, {"detail": f"request is {int(declared):,} bytes, over the limit of {limit:,} bytes"})
        return await call_next(request)


def create_app(runtime: Runtime) -> FastAPI:
    """The whole HTTP application over one runtime."""
    app = FastAPI(
        title="Panjereh",
        summary="Single-window process engine for government services",
        version="0.1.0",
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.state.runtime = runtime
    for module in (operations, deployments, processes, tasks, uploads, connectors, messages):
        app.include_router(module.router)
    _install_error_handlers(app)
    settings = runtime.settings
    _install_body_cap(app, settings.max_upload_bytes * settings.max_files_per_deployment + 1024 * 1024)
    return app
