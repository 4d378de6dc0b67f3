"""Sign-in pages: citizens by national code, mobile and a one-time code; staff by token."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from connectors.sdk import ConnectorError
from engine.security.principals import Principal, Role
from engine.security.tokens import resolve
from engine.services import signin
from engine.services.notify import owns_mobile, send_sms
from engine.web.context import FormDep, Page, PageDep, safe_next
from forms.identifiers import canonical_mobile, canonical_national_code, check_mobile, check_national_code

router = APIRouter(include_in_schema=False)


@router.get("/sign-in")
def sign_in_form(page: PageDep, next: str = "/cases") -> Response:
    return page.render("sign_in.html", next=safe_next(next, "/cases"), errors={}, values={})


@router.post("/sign-in")
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
        # A code texted to a phone proves only the phone; the operators' registry ties it to the person.
        if not owns_mobile(page.runtime, national, mobile):
            return page.render("sign_in.html", status=422, next=target, values=values,
                               errors={"mobile": page.t("signin.mobile_not_owned")})
    except ConnectorError:
        return page.render("sign_in.html", status=503, next=target, values=values,
                           errors={"mobile": page.t("signin.check_failed")})
    secret = page.runtime.settings.secret_key.get_secret_value()
    try:
        with page.runtime.unit_of_work() as session:
            challenge, text = signin.start(session, national, mobile, secret, page.t("signin.sms", code="{code}"),
                                           keep_copy=page.runtime.settings.environment == "development")
    except signin.RateLimited as limited:
        return page.render("sign_in.html", status=429, next=target, values=values,
                           errors={"national_code": page.t("signin.too_many",
                                                           minutes=limited.retry_after // 60 + 1)})
    try:
        send_sms(page.runtime, mobile, text, purpose="sign-in", case_id=challenge.id)
    except ConnectorError:
        return page.render("sign_in.html", status=503, next=target, values=values,
                           errors={"mobile": page.t("signin.sms_failed")})
    return page.redirect(f"/sign-in/code?challenge={challenge.id}&to={quote(challenge.masked_mobile)}"
                         f"&next={quote(target)}")


@router.get("/sign-in/code")
def code_form(page: PageDep, challenge: str, to: str = "", next: str = "/cases") -> Response:
    return page.render("sign_in_code.html", challenge=challenge, to=to, next=safe_next(next, "/cases"), error=None)


@router.post("/sign-in/code")
def verify_code(page: PageDep, posted: FormDep) -> Response:
    challenge = str(posted.get("challenge", ""))
    target = safe_next(str(posted.get("next", "")), "/cases")
    from forms.normalize import ascii_digits

    code = ascii_digits(str(posted.get("code", ""))).strip()
    secret = page.runtime.settings.secret_key.get_secret_value()
    try:
        with page.runtime.unit_of_work() as session:
            national = signin.verify(session, challenge, code, secret)
    except signin.SignInError as refused:
        return page.render("sign_in_code.html", status=422, challenge=challenge, to=posted.get("to", ""),
                           next=target, error=page.t(refused.reason))
    page.session.sign_in(national, Role.CITIZEN.value)
    return page.redirect(target)


@router.post("/sign-out")
def sign_out(page: PageDep, _: FormDep) -> Response:
    page.session.sign_out()
    return page.redirect("/")


@router.get("/dev/outbox")
def dev_outbox(page: PageDep) -> Response:
    """Where one-time codes go in embedded mode, instead of an SMS gateway."""
    if page.runtime.settings.environment != "development":
        return page.render("not_found.html", status=404)
    with page.runtime.reading() as session:
        messages = signin.outbox(session)
    return page.render("outbox.html", messages=messages)


@router.get("/staff/sign-in")
def staff_sign_in_form(page: PageDep) -> Response:
    return page.render("token_sign_in.html", area="staff", error=None)


def sign_in_with_token(page: Page, token: str, roles: Collection[Role]) -> Principal | None:
    """Sign the visitor in with an access key of one of `roles`; None (and no change) otherwise."""
    admin = page.runtime.settings.admin_token
    with page.runtime.reading() as session:
        principal = resolve(session, token.strip(), admin.get_secret_value() if admin else None)
    if principal is None or principal.role not in roles:
        return None
    page.session.sign_in(principal.name, principal.role.value, principal.agency)
    return principal


@router.post("/staff/sign-in")
def staff_sign_in(page: PageDep, posted: FormDep) -> Response:
    if sign_in_with_token(page, str(posted.get("token", "")), (Role.STAFF,)) is None:
        return page.render("token_sign_in.html", area="staff", status=422, error=page.t("staff.token_invalid"))
    return page.redirect("/staff")
