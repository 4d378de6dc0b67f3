"""What every HTML page needs: the runtime, the visitor's session and language, rendering."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.formparsers import FormParser

from engine.security.principals import Principal, Role
from engine.services.clients import client_address
from engine.services.runtime import Runtime
from engine.web import session as sessions
from engine.web.fields import task_title
from engine.web.i18n import LANGUAGES, Translator, translator
from forms.storable import unstorable_text

# Staff and analyst pages live with the web layer; the citizen's pages (and the base layout
# every page extends) with the forms they render.
TEMPLATES = (Path(__file__).resolve().parent / "templates", Path(__file__).resolve().parents[2] / "forms" / "templates")
URLENCODED = "application/x-www-form-urlencoded"
# Fields of one posted form (Starlette's own default), and room around a task's answers.
MAX_FORM_FIELDS = 1000
FORM_ENVELOPE_BYTES = 64 * 1024


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(list(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: an open redirect would let a phishing link borrow our name.

    Control characters and lone surrogates are no part of a path this site gives out.
    """
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 32 or ord(c) == 127 for c in target) and unstorable_text(target) is None):
        return target
    return default


@dataclass
class Page:
    """One request to an HTML page."""

    request: Request
    runtime: Runtime
    session: sessions.WebSession
    t: Translator

    @property
    def principal(self) -> Principal | None:
        if not self.session.subject or not self.session.role:
            return None
        return Principal(Role(self.session.role), self.session.subject, self.session.agency)

    @property
    def visitor(self) -> Principal:
        """The signed-in visitor, on a page whose audience needs one (its route let them in)."""
        principal = self.principal
        if principal is None:
            raise RuntimeError(f"{self.request.url.path} is open to anyone; it has no signed-in visitor")
        return principal

    @property
    def client(self) -> str:
        """The visitor's address, as every rate limit counts it (see `engine.services.clients`)."""
        peer = self.request.client.host if self.request.client else None
        return client_address(peer, self.request.headers.getlist("x-forwarded-for"),
                              self.runtime.settings.trusted_proxies)

    def _finish(self, response: Response) -> Response:
        if self.session.changed:
            settings = self.runtime.settings
            secure = settings.environment != "development" or self.request.url.scheme == "https"
            sessions.store(response, self.session, settings.secret_key.get_secret_value(), secure)
        response.headers["Cache-Control"] = "no-store"
        return response

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        if "error_list" not in context:
            errors = context.get("errors") or ({"code": context["error"]} if context.get("error") else {})
            context["error_list"] = [(f"f-{name}", message) for name, message in errors.items()]
        html = environment().get_template(template).render(
            t=self.t, lang=self.t.lang, dir=self.t.direction, csrf=self.session.csrf, principal=self.principal,
            path=self.request.url.path, query=self.request.url.query,
            other_lang="en" if self.t.lang == "fa" else "fa", title_of=lambda task: task_title(self.t, task),
            embedded=not self.runtime.settings.database_url or self.runtime.settings.environment == "development",
            **context)
        return self._finish(HTMLResponse(html, status_code=status))

    def redirect(self, target: str) -> Response:
        return self._finish(RedirectResponse(target, status_code=303))


def get_page(request: Request) -> Page:
    """The request's page, made once: the route's guard, the form check and the handler share it."""
    made = getattr(request.state, "page", None)
    if isinstance(made, Page):
        return made
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.secret_key.get_secret_value()
    lang = request.cookies.get(sessions.LANG_COOKIE)
    page = Page(request, runtime, sessions.load(request, secret), translator(lang if lang in LANGUAGES else None))
    request.state.page = page
    return page


PageDep = Annotated[Page, Depends(get_page)]


async def checked_form(request: Request) -> FormData:
    """The posted form, after the CSRF check (a mismatch is a 403 and nothing changes).

    Reading the body is the only async step of a page: the handlers themselves are plain
    functions that FastAPI runs in its thread pool, because they wait on the database and
    on other agencies (which, in embedded mode, this same server answers).
    """
    page = get_page(request)
    data = await _posted(request, page.runtime.settings.max_data_bytes + FORM_ENVELOPE_BYTES)
    if not page.session.csrf_ok(str(data.get("csrf_token", ""))):
        await data.close()  # a refused upload's spooled files go now, not at garbage collection
        raise HTTPException(403, page.t("errors.csrf"))
    return data


FormDep = Annotated[FormData, Depends(checked_form)]


async def _posted(request: Request, limit: int) -> FormData:
    """The form of a page's post; a plain (URL-encoded) one is read whole, up to `limit` bytes.

    The form parser spends Python time on the event loop for every field separator, empty
    fields included: 8 MB of '&' held the loop for 4 s, before any check. A plain form holds
    no more than a task's answers, and at most `MAX_FORM_FIELDS` fields, so a body longer or
    with more separators than that is refused before it is parsed. Multipart bodies (uploads)
    stream to disk as they arrive; their parser looks for the boundary with C-level searches.
    """
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != URLENCODED:
        return await request.form(max_fields=MAX_FORM_FIELDS)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the form is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if body.count(b"&") + body.count(b";") > MAX_FORM_FIELDS:
        raise HTTPException(400, f"a form has at most {MAX_FORM_FIELDS} fields")

    async def once() -> AsyncGenerator[bytes, None]:
        yield body

    return await FormParser(request.headers, once(), max_fields=MAX_FORM_FIELDS).parse()
