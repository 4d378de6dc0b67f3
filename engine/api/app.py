"""The FastAPI application: routers, error answers, input limits, and the thread pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from engine.api import docs, errors
from engine.api.inputs import BodyLimit
from engine.api.probe import SharedProbe
from engine.api.routes import (
    connectors,
    deployments,
    issued_documents,
    messages,
    operations,
    payments,
    processes,
    tasks,
    uploads,
)
from engine.services.runtime import Runtime

ROUTERS = tuple(module.router for module in (operations, deployments, processes, payments, tasks, uploads,
                                                connectors, messages, issued_documents))
OPENAPI_URL = "/openapi.json"


def create_app(runtime: Runtime) -> FastAPI:
    """The whole HTTP application over one runtime."""
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Sync routes and pages run in this pool; the database pool was sized from the same
        # setting (engine.db.base.make_engine), so a running request always gets a connection.
        to_thread.current_default_thread_limiter().total_tokens = settings.server_threads
        yield

    app = FastAPI(
        title="Panjereh",
        summary="Single-window process engine for government services",
        version="0.1.0",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.probe = SharedProbe(runtime.probe)
    for router in ROUTERS:
        app.include_router(router)
    docs.install(app)
    errors.install(app)
    # Refuse an oversized request before its body is read: multipart uploads are spooled to
    # disk by the framework, so checking file sizes afterwards would be too late.
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes * settings.max_files_per_deployment + 1024 * 1024)
    app.add_middleware(errors.RetryAfter)
    return app
