"""A Shaparak payment gateway (PSP): ask for a payment token, verify a payment, refund one.

The citizen pays on the gateway's own page (`Issued.payment_url`) and comes back to the
callback address set here (`callback_url`); a payment counts only once `verify` says so.
The gateway's refusals are final errors with its own codes, which a model's error boundary
event (or the engine's payment service) can tell apart:

=================  ==========================================================================
code               meaning
=================  ==========================================================================
unknown-token      the gateway never issued this token
amount-mismatch    the amount is not the one the token was issued for
not-paid           the citizen has not paid (yet)
cancelled          the citizen cancelled on the gateway's page
declined           the bank refused the card until the token failed
expired            the token was not used in time
reversed           paid, but not verified in time: the bank gave the money back
refunded           the payment was refunded
not-verified       a refund of a payment that was never verified
duplicate-order    an order id used before, with another idempotency key
=================  ==========================================================================
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, Field

from connectors.failures import from_http_error, from_response
from connectors.sdk import Connector, ConnectorContext, ConnectorError, operation

GATEWAY_CODES = frozenset({"unknown-token", "amount-mismatch", "not-paid", "cancelled", "declined", "expired",
                           "reversed", "refunded", "not-verified", "duplicate-order"})
# Shaparak's floor (1,000 tomans) and the gateway's ceiling for one payment, in rials.
MIN_RIAL = 10_000
MAX_RIAL = 500_000_000


def _titled(fa: str, en: str) -> dict[str, Any]:
    return {"x-title": {"fa": fa, "en": en}}


class PaymentAsked(BaseModel):
    amount_rial: int = Field(ge=MIN_RIAL, le=MAX_RIAL, description="the amount in rials",
                             json_schema_extra=_titled("مبلغ (ریال)", "Amount (rials)"))
    description: str = Field("", max_length=255, description="what is paid for, shown on the gateway's page",
                             json_schema_extra=_titled("شرح پرداخت", "What it pays for"))
    order_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                                 description="the merchant's order id, used once; the call's idempotency key when "
                                             "not given", json_schema_extra=_titled("شماره سفارش", "Order id"))


class Issued(BaseModel):
    token: str
    order_id: str
    amount_rial: int
    payment_url: str = Field(description="the gateway's page the citizen pays on")
    expires_in_s: int


class PaymentChecked(BaseModel):
    token: str = Field(min_length=1, max_length=64, json_schema_extra=_titled("شناسه پرداخت", "Payment token"))
    amount_rial: int = Field(ge=MIN_RIAL, le=MAX_RIAL, description="the amount the token was issued for",
                             json_schema_extra=_titled("مبلغ (ریال)", "Amount (rials)"))


class Verified(BaseModel):
    token: str
    status: str = Field(description="VERIFIED the first time, ALREADY_VERIFIED after")
    reference: str = Field(description="the retrieval reference number (RRN) on the citizen's receipt")
    trace: str
    card: str = Field(description="the card number, masked")
    amount_rial: int
    paid_at: str


class Refunded(BaseModel):
    refund_id: str
    token: str
    amount_rial: int
    refunded_at: str
    already_refunded: bool


class PaymentGateway(Connector):
    id: ClassVar[str] = "payment"
    title: ClassVar[dict[str, str]] = {"fa": "درگاه پرداخت (شاپرک)", "en": "Payment gateway (Shaparak)"}
    agency: ClassVar[str] = "payment_gateway"
    # The callback is Panjereh's own address; the engine fills it in from its public URL.
    requires: ClassVar[tuple[str, ...]] = ("base_url", "callback_url")

    def _send(self, ctx: ConnectorContext, path: str, body: dict[str, Any]) -> dict[str, Any]:
        key = self.config.get("api_key") or ctx.secret("payment_api_key")
        try:
            response = ctx.http.post(f"{self.setting('base_url')}{path}", json=body,
                                     headers={"Authorization": f"Bearer {key}"})
        except httpx.HTTPError as error:
            raise from_http_error(error) from error
        if response.status_code >= 400:
            raise _refusal(response)
        answer: dict[str, Any] = response.json()
        return answer

    @operation(title={"fa": "درگاه پرداخت: درخواست پرداخت", "en": "Payment gateway: ask for a payment"},
               description={"fa": "شناسه پرداخت و نشانی صفحه پرداخت را از درگاه می‌گیرد.",
                            "en": "Gets a payment token and the address of the gateway's payment page."})
    def request(self, ctx: ConnectorContext, params: PaymentAsked) -> Issued:
        body = {"amount_rial": params.amount_rial, "description": params.description,
                "order_id": params.order_id or ctx.idempotency_key[:64], "callback_url": self.setting("callback_url")}
        return Issued.model_validate(self._send(ctx, "/requests", body))

    @operation(title={"fa": "درگاه پرداخت: تأیید پرداخت", "en": "Payment gateway: verify a payment"},
               description={"fa": "از درگاه می‌پرسد آیا پول واقعا برداشت شده است و آن را قطعی می‌کند.",
                            "en": "Asks the gateway whether the money was really taken, and settles it."},
               fields=("card",))
    def verify(self, ctx: ConnectorContext, params: PaymentChecked) -> Verified:
        return Verified.model_validate(self._send(ctx, "/verify", params.model_dump()))

    @operation(title={"fa": "درگاه پرداخت: بازگرداندن وجه", "en": "Payment gateway: refund a payment"},
               description={"fa": "کل مبلغ یک پرداخت تأییدشده را به کارت پرداخت‌کننده بازمی‌گرداند.",
                            "en": "Gives the whole amount of a verified payment back to the card that paid."})
    def refund(self, ctx: ConnectorContext, params: PaymentChecked) -> Refunded:
        return Refunded.model_validate(self._send(ctx, "/refunds", params.model_dump()))


def _refusal(response: httpx.Response) -> ConnectorError:
    """The gateway's own reason when it gave one (a final error), else the HTTP failure as every connector has it."""
    if response.status_code in (404, 409):
        try:
            body = response.json()
        except ValueError:
            body = None
        code = body.get("error") if isinstance(body, dict) else None
        if code in GATEWAY_CODES:
            return ConnectorError(code, f"the payment gateway answered {code}")
    return from_response(response)
