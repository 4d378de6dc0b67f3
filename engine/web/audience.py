"""Every HTML route says whom it is for, and that declaration is what lets a visitor in.

`@router.get(path, **audience(Audience.CITIZEN))` adds a guard that first checks the address
(`engine.web.addresses`: nothing a database cannot keep or compare reaches the page), then asks
`engine.services.access.may_enter` before the page runs; a visitor outside the audience is
sent to that audience's sign-in page (and back afterwards), or, for development pages on a
production server, gets "not found". The declaration is also kept on the route
(`openapi_extra["x-audience"]`), where the test that walks every route reads it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request

from engine.services import access
from engine.services.access import Audience
from engine.web.addresses import check_address
from engine.web.page_context import get_page

SIGN_IN_PAGES = {Audience.CITIZEN: "/sign-in", Audience.STAFF: "/staff/sign-in", Audience.CONSOLE: "/analyst/sign-in"}
HOMES = {Audience.CITIZEN: "/cases", Audience.STAFF: "/staff", Audience.CONSOLE: "/analyst"}


class Unwelcome(Exception):
    """The visitor may not open this page; `sign_in` is where to send them, None for "not found"."""

    def __init__(self, sign_in: str | None) -> None:
        self.sign_in = sign_in
        super().__init__(sign_in or "not found")


class Entrance:
    """The guard `audience()` puts on a route."""

    def __init__(self, who: Audience, back: str | None) -> None:
        self.who, self.back = who, back

    def __call__(self, request: Request) -> None:
        check_address(request)
        page = get_page(request)
        development = page.runtime.settings.environment == "development"
        if access.may_enter(page.principal, self.who, development=development):
            return
        sign_in = SIGN_IN_PAGES.get(self.who)
        if sign_in is None:
            raise Unwelcome(None)
        target = self._return_to(request)
        raise Unwelcome(sign_in if target == HOMES[self.who] else f"{sign_in}?next={quote(target)}")

    def _return_to(self, request: Request) -> str:
        """Where to come back after signing in: this page, or for a form post the page that has the form."""
        if request.method == "GET":
            query = request.url.query
            return request.url.path + (f"?{query}" if query else "")
        if self.back is not None:
            return self.back.format(**{k: quote(str(v), safe="") for k, v in request.path_params.items()})
        return request.url.path


def audience(who: Audience, *, back: str | None = None) -> dict[str, Any]:
    """Route keyword arguments declaring whom the page is for; every HTML route uses this.

    `back` is where a signed-out visitor who posted the form returns after signing in, with the
    route's path parameters filled in (`"/services/{key}"`); by default the same path.
    """
    return {"openapi_extra": {"x-audience": who.value}, "dependencies": [Depends(Entrance(who, back))]}


def declared_audience(route: Any) -> Audience | None:
    """What a route declared with `audience()`, if anything."""
    extra = getattr(route, "openapi_extra", None) or {}
    value = extra.get("x-audience")
    return Audience(value) if value in {a.value for a in Audience} else None
