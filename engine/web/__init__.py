"""Server-rendered HTML: the citizen portal, sign-in, the staff inbox and the analyst console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from engine.services.errors import NotFound
from engine.web import analyst, journey, portal, signin, staff
from engine.web.audience import Unwelcome, declared_audience
from engine.web.context import get_page

STATIC = Path(__file__).resolve().parents[2] / "forms" / "static"


def install(app: FastAPI) -> None:
    """Add the HTML pages to `app`; the JSON API keeps its own error bodies under /api."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (portal, signin, journey, staff, analyst):
        undeclared = [route.path for route in module.router.routes if declared_audience(route) is None]
        if undeclared:
            raise RuntimeError(f"HTML routes without a declared audience: {', '.join(undeclared)}")
        app.include_router(module.router)
    json_not_found: Any = app.exception_handlers.get(NotFound)

    async def not_found(request: Request, err: Exception) -> Response:
        if request.url.path.startswith("/api/") and json_not_found is not None:
            response: Response = await json_not_found(request, err)
            return response
        return get_page(request).render("not_found.html", status=404)

    async def http_error(request: Request, err: Exception) -> Response:
        assert isinstance(err, HTTPException)
        if request.url.path.startswith("/api/") or err.status_code not in (403, 404):
            return await http_exception_handler(request, err)
        return get_page(request).render("not_found.html" if err.status_code == 404 else "forbidden.html",
                                        status=err.status_code)

    async def unwelcome(request: Request, err: Exception) -> Response:
        assert isinstance(err, Unwelcome)
        page = get_page(request)
        return page.redirect(err.sign_in) if err.sign_in else page.render("not_found.html", status=404)

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(Unwelcome, unwelcome)
    app.add_exception_handler(HTTPException, http_error)
