"""Server-rendered HTML: the citizen portal, sign-in, the staff inbox and the analyst console."""

from __future__ import annotations

import logging
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from engine.services.errors import Conflict, ModelStopped, NotFound, Unavailable, Unstorable
from engine.services.instance_store import record_stopped
from engine.web import account, analyst, impact_page, issued, journey, payments, portal, signin, staff
from engine.web.addresses import BadAddress
from engine.web.audience import Unwelcome, declared_audience
from engine.web.page_context import get_page

STATIC = Path(__file__).resolve().parents[2] / "forms" / "static"
log = logging.getLogger("panjereh.errors")


def install(app: FastAPI) -> None:
    """Add the HTML pages to `app`; the JSON API keeps its own error bodies under /api."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (portal, signin, account, journey, payments, staff, analyst, impact_page, issued):
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

    json_http_error: Any = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def http_error(request: Request, err: Exception) -> Response:
        assert isinstance(err, HTTPException)
        if request.url.path.startswith("/api/") or err.status_code not in (403, 404):
            response: Response = await json_http_error(request, err)
            return response
        return get_page(request).render("not_found.html" if err.status_code == 404 else "forbidden.html",
                                        status=err.status_code)

    async def bad_address(request: Request, err: Exception) -> Response:
        assert isinstance(err, BadAddress)
        return get_page(request).render("not_found.html" if err.status == 404 else "bad_address.html",
                                        status=err.status)

    async def unwelcome(request: Request, err: Exception) -> Response:
        assert isinstance(err, Unwelcome)
        page = get_page(request)
        return page.redirect(err.sign_in) if err.sign_in else page.render("not_found.html", status=404)

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(Unwelcome, unwelcome)
    app.add_exception_handler(BadAddress, bad_address)
    app.add_exception_handler(HTTPException, http_error)
    _install_database_pages(app)


# Shown when the database is busy, unreachable, lost a race or refused a value under a page:
# plain HTML with no template, session or database behind it, in both languages, since the
# page itself failed.
_PLAIN_PAGE = """<!doctype html><html lang="fa" dir="rtl"><head><meta charset="utf-8">
<title>{title_fa} / {title_en}</title></head><body><main>
<h1>{title_fa}</h1><p>{text_fa}</p><p lang="en" dir="ltr">{title_en}. {text_en}</p></main></body></html>"""


def _install_database_pages(app: FastAPI) -> None:
    """503 with Retry-After (busy or unreachable database), 409 (a lost race) and 422 (a value
    the database cannot keep) for pages; the JSON API keeps its own answers for all three."""
    json_handlers: dict[type[Exception], Any] = {kind: app.exception_handlers.get(kind)
                                                 for kind in (Unavailable, Conflict, Unstorable, ModelStopped)}

    async def database_page(request: Request, err: Exception) -> Response:
        json_handler = next((h for kind, h in json_handlers.items() if isinstance(err, kind)), None)
        if request.url.path.startswith("/api/") and json_handler is not None:
            response: Response = await json_handler(request, err)
            return response
        if isinstance(err, Unavailable):
            html = _PLAIN_PAGE.format(
                title_fa="سامانه موقتا در دسترس نیست", text_fa="چیزی ذخیره نشد. لطفا چند لحظه بعد دوباره تلاش کنید.",
                title_en="The service is briefly unavailable", text_en="Nothing was saved. Please try again shortly.")
            return HTMLResponse(html, status_code=503, headers={"Retry-After": str(err.retry_after),
                                                                "Cache-Control": "no-store"})
        if isinstance(err, ModelStopped):
            await run_in_threadpool(partial(record_stopped, request.app.state.runtime, err, quietly=True))
            html = _PLAIN_PAGE.format(
                title_fa="این درخواست انجام نشد",
                text_fa="چیزی ذخیره نشد: فرایند این خدمت بیش از اندازه طول کشید یا حافظه زیادی خواست و متوقف شد. "
                        "کارشناسان از آن باخبر شده‌اند؛ لطفا بعدا پرونده خود را ببینید.",
                title_en="This request could not be carried out",
                text_en="Nothing was saved: this service's process ran too long or asked for too much memory and "
                        "was stopped. The operators have been told; please check your case later.")
            return HTMLResponse(html, status_code=422, headers={"Cache-Control": "no-store"})
        if isinstance(err, Unstorable):
            html = _PLAIN_PAGE.format(
                title_fa="این پاسخ ذخیره نشد",
                text_fa="چیزی ذخیره نشد: متنی بیش از اندازه بلند بود، عددی بیش از اندازه بزرگ بود یا نویسه‌ای داشت که "
                        "نمی‌توان نگه داشت. به صفحه قبل برگردید، آن را کوتاه یا درست کنید و دوباره بفرستید.",
                title_en="This could not be saved",
                text_en="Nothing was saved: a text was too long, a number too large, or a character could not be "
                        "kept. Go back, shorten or correct it, and send again.")
            return HTMLResponse(html, status_code=422, headers={"Cache-Control": "no-store"})
        html = _PLAIN_PAGE.format(
            title_fa="این پرونده همزمان تغییر کرد", text_fa="چیزی ذخیره نشد. صفحه را دوباره باز کنید و دوباره بفرستید.",
            title_en="This case changed at the same time", text_en="Nothing was saved. Reload the page and send again.")
        return HTMLResponse(html, status_code=409, headers={"Cache-Control": "no-store"})

    app.add_exception_handler(Unavailable, database_page)
    app.add_exception_handler(Conflict, database_page)
    app.add_exception_handler(Unstorable, database_page)
    app.add_exception_handler(ModelStopped, database_page)
    _install_failure_page(app)


def _install_failure_page(app: FastAPI) -> None:
    """500 for a failure no handler expects: a plain page with the reference it is logged
    under, and nothing of the failure itself; the JSON API keeps its own answer."""
    json_handler: Any = app.exception_handlers.get(Exception)

    async def failure_page(request: Request, err: Exception) -> Response:
        if request.url.path.startswith("/api/") and json_handler is not None:
            response: Response = await json_handler(request, err)
            return response
        reference = uuid.uuid4().hex[:12]
        log.error("unexpected failure %s on %s %s", reference, request.method, request.url.path, exc_info=err)
        html = _PLAIN_PAGE.format(
            title_fa="خطایی پیش آمد",
            text_fa=f"سامانه نتوانست به این درخواست پاسخ دهد. اگر دوباره پیش آمد، این کد را به پشتیبانی بدهید: "
                    f"{reference}",
            title_en="Something went wrong",
            text_en=f"The service could not answer this request. If it happens again, give support this reference: "
                    f"{reference}")
        return HTMLResponse(html, status_code=500, headers={"Cache-Control": "no-store"})

    app.add_exception_handler(Exception, failure_page)
