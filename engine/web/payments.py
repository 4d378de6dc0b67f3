"""Paying a case's fee: the button that sends the citizen to the bank's gateway, and the page it
sends them back to (public: the gateway's redirect carries no session we could rely on)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import Response

from engine.core.statuses import UNPAID_PAYMENTS, PaymentStatus
from engine.services import payment_returns, payment_tries, payments
from engine.services.access import Audience
from engine.services.errors import Conflict, NotFound
from engine.services.payments import CasePayments, GatewayUnavailable
from engine.services.ratelimit import RateLimited
from engine.settings import PAYMENT_CALLBACK_PATH
from engine.web.audience import audience
from engine.web.page_context import FormDep, Page, PageDep

router = APIRouter(include_in_schema=False)
# Why a payment failed, in words the citizen is given (forms/locale: payment.reason_*).
REASONS = frozenset({"declined", "expired", "reversed", "amount-mismatch", "unknown-token", "refunded",
                     "case-not-waiting", "superseded"})


def _reason(payment: payments.PaymentView) -> str | None:
    return payment.problem if payment.status is PaymentStatus.FAILED and payment.problem in REASONS else None


def panel(page: Page, found: CasePayments) -> dict[str, Any] | None:
    """What the case page shows of its payment, or None when it has nothing to show."""
    newest = found.newest
    if newest is None:
        return {"kind": "preparing", "earlier": []} if found.due else None
    # A case may ask for several payments (instalments): those made before the newest are listed
    # above it, and the newest is then called the next payment, not the fee.
    earlier = [{"payment": p, "amount": page.t.money(p.amount_rial)} for p in found.payments[:-1]
               if p.verified_at is not None]
    shown: dict[str, Any] = {"payment": newest, "amount": page.t.money(newest.amount_rial), "reason": _reason(newest),
                             "problem": newest.problem, "earlier": earlier}
    if newest.status is PaymentStatus.VERIFIED:
        return shown | {"kind": "paid"}
    if newest.status is PaymentStatus.REFUNDED:
        return shown | {"kind": "refunded"}
    if not found.due:
        return None  # the case moved on without this payment (it was stopped): nothing to pay
    if newest.status is PaymentStatus.VERIFYING:
        # Checking again is coming back from the gateway again: it waits for the return that is
        # verifying, or takes over one that died with its server.
        return shown | {"kind": "confirming", "again": _again(newest.token)}
    if newest.status in UNPAID_PAYMENTS:
        return shown | {"kind": "retry", "ended": newest.status.value}
    return shown | {"kind": "pay"}


def timeline_entries(page: Page, found: CasePayments) -> list[dict[str, Any]]:
    """The case's payments as steps of its history: paid (and refunded), or waiting for the citizen."""
    entries: list[dict[str, Any]] = []
    you = page.t("status.you")
    for payment in found.payments:
        amount = page.t.money(payment.amount_rial)
        if payment.verified_at is not None:
            entries.append({"text": page.t("status.step_done", step=page.t("payment.step", amount=amount), who=you),
                            "at": payment.verified_at, "done": True})
        if payment.refunded_at is not None:
            entries.append({"text": page.t("payment.refunded_step", amount=amount), "at": payment.refunded_at,
                            "done": True})
    newest = found.newest
    if found.due:
        step = page.t("payment.step", amount=page.t.money(newest.amount_rial)) if newest else page.t("payment.title")
        entries.append({"text": page.t("status.step_waiting", step=step, who=you),
                        "at": newest.created_at if newest else None, "done": False})
    return entries


@router.post("/cases/{instance_id}/pay", **audience(Audience.CITIZEN, back="/cases/{instance_id}"))
def pay(page: PageDep, _: FormDep, instance_id: str) -> Response:
    try:
        payment = payment_tries.try_again(page.runtime, page.visitor, instance_id)
    except Conflict:
        return page.redirect(f"/cases/{instance_id}")
    except GatewayUnavailable as down:
        return _render(page, "gateway_down", 503, instance_id=instance_id, retry_after=down.retry_after)
    except RateLimited as limited:
        return _render(page, "too_many", 429, instance_id=instance_id, retry_after=limited.retry_after,
                       minutes=limited.retry_after // 60 + 1)
    assert payment.payment_url is not None  # a payable payment has its page
    return page.redirect(payment.payment_url)


@router.get(PAYMENT_CALLBACK_PATH, **audience(Audience.ANYONE))
def payment_return(page: PageDep, token: str = "") -> Response:
    return _returned(page, token)


@router.post(PAYMENT_CALLBACK_PATH, **audience(Audience.ANYONE))
def payment_return_posted(page: PageDep, token: Annotated[str, Form(max_length=200)] = "") -> Response:
    # Some gateways post the browser back; the form carries no CSRF token of ours, and needs none:
    # it only names a payment, which is then verified with the gateway itself.
    return _returned(page, token)


def _returned(page: Page, token: str) -> Response:
    if not token.strip():
        return _render(page, "unknown", 400)
    try:
        found = payment_returns.returned(page.runtime, token, page.client)
    except NotFound:
        return _render(page, "unknown", 404)
    except RateLimited as limited:
        return _render(page, "too_many", 429, retry_after=limited.retry_after, minutes=limited.retry_after // 60 + 1)
    payment = found.payment
    context: dict[str, Any] = {"instance_id": found.instance_id, "payment": payment, "again": _again(payment.token),
                               "reason": _reason(payment)}
    match payment.status:
        case PaymentStatus.VERIFIED | PaymentStatus.REFUNDED:
            return _render(page, "paid", 200, **context)
        case PaymentStatus.VERIFYING:
            return _render(page, "confirming", 202, **context)
        case PaymentStatus.CANCELLED:
            return _render(page, "cancelled", 200, **context)
        case PaymentStatus.FAILED:
            return _render(page, "failed", 200, **context)
    if found.retry_after is not None:
        return _render(page, "unavailable", 503, retry_after=found.retry_after, **context)
    return _render(page, "not_paid", 200, **context)


def _again(token: str) -> str:
    return f"{PAYMENT_CALLBACK_PATH}?{urlencode({'token': token})}"


def _render(page: Page, outcome: str, status: int, *, retry_after: int | None = None, **context: Any) -> Response:
    context.setdefault("instance_id", None)
    response = page.render("payment.html", status=status, outcome=outcome, **context)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
