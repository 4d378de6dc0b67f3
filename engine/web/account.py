"""The citizen's contact page: where news of their cases goes besides their mobile."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from engine.services import notifications
from engine.services.access import Audience
from engine.web.audience import audience
from engine.web.page_context import FormDep, PageDep
from forms.identifiers import canonical_email, check_email

router = APIRouter(include_in_schema=False)
MAX_TYPED = 254


@router.get("/account", **audience(Audience.CITIZEN))
def account(page: PageDep, saved: int = 0) -> Response:
    email = notifications.email_of(page.runtime, page.visitor.name)
    return page.render("account.html", email=email or "", error=None, saved=bool(saved))


@router.post("/account", **audience(Audience.CITIZEN))
def save_account(page: PageDep, posted: FormDep) -> Response:
    typed = str(posted.get("email", ""))
    email = canonical_email(typed)
    if len(typed) > MAX_TYPED or (email and check_email(email)):
        return page.render("account.html", status=422, email=typed[:MAX_TYPED], error=page.t("account.email_invalid"),
                           saved=False)
    notifications.set_email(page.runtime, page.visitor.name, email or None, page.t.lang)
    return page.redirect("/account?saved=1")
