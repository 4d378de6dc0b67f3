"""Sign-in pages: citizens by national code, mobile and a one-time code; staff by token."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from engine.security.principals import Principal, Role
from engine.security.tokens import resolve
from engine.services import access, catalogue, notifications, signin
from engine.services.access import Audience
from engine.web.audience import HOMES, audience
from engine.web.page_context import FormDep, Page, PageDep, safe_next
from forms.identifiers import canonical_mobile, canonical_national_code, check_mobile, check_national_code
from forms.normalize import ascii_digits

router = APIRouter(include_in_schema=False)


def _too_many(page: Page, template: str, limited: signin.RateLimited, **context: object) -> Response:
    response = page.render(template, status=429, **context)
    response.headers["Retry-After"] = str(limited.retry_after)
    return response


@router.get("/sign-in", **audience(Audience.ANYONE))
def sign_in_form(page: PageDep, next: str = "/cases") -> Response:
    return page.render("sign_in.html", next=safe_next(next, "/cases"), errors={}, values={})


@router.post("/sign-in", **audience(Audience.ANYONE))
def sign_in(page: PageDep, posted: FormDep) -> Response:
    target = safe_next(str(posted.get("next", "")), "/cases")
    national = canonical_national_code(str(posted.get("national_code", "")))
    mobile = canonical_mobile(str(posted.get("mobile", "")))
    values = {"national_code": posted.get("national_code", ""), "mobile": posted.get("mobile", "")}
    errors = {}
    if check_national_code(national):
        errors["national_code"] = page.t("signin.national_invalid")
    if check_mobile(mobile):
        errors["mobile"] = page.t("signin.mobile_invalid")
    if errors:
        return page.render("sign_in.html", status=422, next=target, errors=errors, values=values)
    try:
        challenge = signin.request_code(page.runtime, national, mobile, page.client,
                                        page.t("signin.sms", code="{code}"))
    except signin.RateLimited as limited:
        return _too_many(page, "sign_in.html", limited, next=target, values=values,
                         errors={"national_code": page.t(limited.reason, minutes=limited.retry_after // 60 + 1)})
    except signin.SignInUnavailable as failed:
        response = page.render("sign_in.html", status=503, next=target, values=values,
                               errors={"mobile": page.t(failed.reason)})
        response.headers["Retry-After"] = str(failed.retry_after)
        return response
    except signin.SignInError as refused:
        return page.render("sign_in.html", status=422, next=target, values=values,
                           errors={"mobile": page.t(refused.reason)})
    return page.redirect(f"/sign-in/code?challenge={challenge.id}&to={quote(challenge.masked_mobile)}"
                         f"&next={quote(target)}")


@router.get("/sign-in/code", **audience(Audience.ANYONE))
def code_form(page: PageDep, challenge: str = "", to: str = "", next: str = "/cases") -> Response:
    return page.render("sign_in_code.html", challenge=challenge, to=to, next=safe_next(next, "/cases"), error=None)


@router.post("/sign-in/code", **audience(Audience.ANYONE))
def verify_code(page: PageDep, posted: FormDep) -> Response:
    challenge = str(posted.get("challenge", ""))
    target = safe_next(str(posted.get("next", "")), "/cases")
    shown = {"challenge": challenge, "to": posted.get("to", ""), "next": target}
    code = ascii_digits(str(posted.get("code", ""))).strip()
    try:
        national = signin.verify(page.runtime, challenge, code, page.client)
    except signin.RateLimited as limited:
        return _too_many(page, "sign_in_code.html", limited, **shown,
                         error=page.t(limited.reason, minutes=limited.retry_after // 60 + 1))
    except signin.SignInError as refused:
        return page.render("sign_in_code.html", status=422, **shown, error=page.t(refused.reason))
    page.session.sign_in(national, Role.CITIZEN.value)
    notifications.remember_language(page.runtime, national, page.t.lang)
    return page.redirect(target)


@router.post("/sign-out", **audience(Audience.ANYONE))
def sign_out(page: PageDep, _: FormDep) -> Response:
    page.session.sign_out()
    return page.redirect("/")


@router.get("/dev/staff", **audience(Audience.DEVELOPMENT))
def demo_staff(page: PageDep) -> Response:
    """On a development server, sign in as a clerk of any agency in the catalogue without a
    token, so a new user can work each agency's steps of the demo services."""
    return page.render("demo_staff.html", agencies=_named_agencies(page))


@router.post("/dev/staff", **audience(Audience.DEVELOPMENT))
def demo_staff_sign_in(page: PageDep, posted: FormDep) -> Response:
    code = str(posted.get("agency", ""))
    agencies = _named_agencies(page)
    if code not in {known for _, known in agencies}:
        return page.render("demo_staff.html", status=422, agencies=agencies)
    page.session.sign_in(f"demo-clerk-{code}", Role.STAFF.value, code)
    return page.redirect("/staff")


def _named_agencies(page: Page) -> list[tuple[str, str]]:
    """(name in the page's language, code) of every agency in the catalogue, by name."""
    with page.runtime.reading() as session:
        found = catalogue.agencies(session)
    return sorted((names.get(page.t.lang) or code, code) for code, names in found.items())


@router.get("/dev/outbox", **audience(Audience.DEVELOPMENT))
def dev_outbox(page: PageDep) -> Response:
    """Where one-time codes go in embedded mode, instead of an SMS gateway."""
    with page.runtime.reading() as session:
        messages = signin.outbox(session)
    return page.render("outbox.html", messages=messages)


def within(target: str, who: Audience) -> str:
    """Back to a page of `who`'s area after signing in, and nowhere else."""
    home = HOMES[who]
    safe = safe_next(target, home)
    return safe if safe == home or safe.startswith(home + "/") else home


def sign_in_with_token(page: Page, token: str, who: Audience) -> Principal | None:
    """Sign the visitor in with an access key that opens `who`'s pages; None (and no change) otherwise."""
    admin = page.runtime.settings.admin_token
    with page.runtime.reading() as session:
        principal = resolve(session, token.strip(), admin.get_secret_value() if admin else None)
    development = page.runtime.settings.environment == "development"
    if principal is None or not access.may_enter(principal, who, development=development):
        return None
    page.session.sign_in(principal.name, principal.role.value, principal.agency)
    return principal


@router.get("/staff/sign-in", **audience(Audience.ANYONE))
def staff_sign_in_form(page: PageDep, next: str = "/staff") -> Response:
    return page.render("token_sign_in.html", area="staff", error=None, next=within(next, Audience.STAFF))


@router.post("/staff/sign-in", **audience(Audience.ANYONE))
def staff_sign_in(page: PageDep, posted: FormDep) -> Response:
    target = within(str(posted.get("next", "")), Audience.STAFF)
    if sign_in_with_token(page, str(posted.get("token", "")), Audience.STAFF) is None:
        return page.render("token_sign_in.html", area="staff", status=422, next=target,
                           error=page.t("staff.token_invalid"))
    return page.redirect(target)
