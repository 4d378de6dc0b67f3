"""Payment gateway (درگاه پرداخت اینترنتی), as a Shaparak payment service provider (PSP) works.

A merchant (Panjereh) asks for a token, sends the citizen's browser to the gateway's page with
it, and gets the browser back at its callback address; only then does it ask the gateway,
server to server, whether the money was really taken (verify). A payment that is never
verified is given back to the cardholder by the bank (``REVERSED``), as Shaparak requires.

Merchant endpoints need ``Authorization: Bearer <key>`` (``PANJEREH_SANDBOX_PAYMENT_API_KEY``,
default ``sandbox-payment-key``); a wrong key is 401 ``{"error": "unauthorized"}``.

``POST /requests`` ``{"amount_rial": 4500000, "order_id": "A-1", "callback_url": "https://.../payments/callback",
"description": "..."}`` -> 201 ``{"token", "order_id", "amount_rial", "payment_url", "expires_in_s"}``.
Amounts are whole rials from 10,000 to 500,000,000; an order id is used once (409 ``duplicate-order``).

``POST /verify`` ``{"token", "amount_rial"}`` -> 200 ``{"token", "status": "VERIFIED" | "ALREADY_VERIFIED",
"reference", "trace", "card", "amount_rial", "paid_at"}``: the first verify of a paid token settles it;
every later one answers ``ALREADY_VERIFIED`` with the same reference. Otherwise (nothing changes):

- 404 ``unknown-token``;
- 409 ``amount-mismatch``: the amount is not the one the token was issued for;
- 409 ``not-paid`` (the citizen has not paid yet), ``cancelled`` (they pressed cancel), ``declined`` (the
  bank refused the card too often), ``expired`` (the token was not used in time), ``reversed`` (paid, but not
  verified in time, so the bank gave the money back). Each carries ``"state"``, the token's state.

``POST /refunds`` ``{"token", "amount_rial"}`` -> 201 ``{"refund_id", "token", "amount_rial", "refunded_at",
"already_refunded": false}``; a verified payment is refunded once: a refund asked again (another idempotency
key) answers 200 with the same ``refund_id`` and ``already_refunded: true``. 409 ``not-verified`` otherwise;
a refund is always of the whole amount (409 ``amount-mismatch``).

``GET /transactions/{token}`` -> the token's state (an inquiry, as PSPs offer one): ``{"token", "order_id",
"amount_rial", "state", "reference", "verifications", "refunds"}``.

The citizen's pages: ``GET /pay/{token}`` shows the amount and a card-number field; ``POST /pay/{token}``
with ``card_number`` and ``action`` (``pay`` or ``cancel``) sends the browser back (303) to the callback
address with ``token``, ``status`` (``OK``, ``CanceledByUser``, ``Failed`` or ``SessionIsNull``) and, when
paid, ``reference``: the same parameters a real PSP sends, which the merchant must not believe until verified.
Test cards: ``6037991234567893`` pays, ``6104337812345674`` is declined (insufficient funds; a third decline
fails the token); any other card number is refused on the page. A token expires 20 minutes after it was
issued; a paid token not verified within 30 minutes is reversed.

Tokens, references and trace numbers are drawn from SHA-256 of the sandbox seed and a counter, so a run
repeats exactly.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from html import escape
from typing import Annotated
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, SecretStr

from connectors.simulators.agency import AgencyError, bearer_key, new_agency_app
from connectors.simulators.behaviour import ServiceState
from forms.identifiers import check_card
from forms.normalize import compact

MIN_RIAL = 10_000
MAX_RIAL = 500_000_000
TOKEN_SECONDS = 20 * 60
VERIFY_SECONDS = 30 * 60
MAX_DECLINES = 3
PAYING_CARDS = frozenset({"6037991234567893"})
DECLINED_CARDS = frozenset({"6104337812345674"})
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


class State(StrEnum):
    """Where a token stands at the gateway, in the PSP's own words."""

    PENDING = "PENDING"
    PAID = "PAID"
    VERIFIED = "VERIFIED"
    CANCELED = "CANCELED_BY_USER"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    REVERSED = "REVERSED"
    REFUNDED = "REFUNDED"


class Return(StrEnum):
    """The ``status`` a browser brings back to the callback address."""

    OK = "OK"
    CANCELED = "CanceledByUser"
    FAILED = "Failed"
    EXPIRED = "SessionIsNull"


# What verify answers for a token that was not (or is no longer) paid and verifiable.
_NOT_VERIFIABLE = {State.PENDING: "not-paid", State.CANCELED: "cancelled", State.DECLINED: "declined",
                   State.EXPIRED: "expired", State.REVERSED: "reversed",
                   State.REFUNDED: "refunded"}


class PaymentRequest(BaseModel):
    amount_rial: int = Field(ge=MIN_RIAL, le=MAX_RIAL)
    order_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    callback_url: str = Field(min_length=8, max_length=500, pattern=r"^https?://")
    description: str = Field("", max_length=255)


class Issued(BaseModel):
    token: str
    order_id: str
    amount_rial: int
    payment_url: str
    expires_in_s: int


class VerifyRequest(BaseModel):
    token: str = Field(min_length=1, max_length=64)
    amount_rial: int


class Verified(BaseModel):
    token: str
    status: str
    reference: str
    trace: str
    card: str
    amount_rial: int
    paid_at: str


class RefundRequest(BaseModel):
    token: str = Field(min_length=1, max_length=64)
    amount_rial: int


class Refunded(BaseModel):
    refund_id: str
    token: str
    amount_rial: int
    refunded_at: str
    already_refunded: bool


class Inquiry(BaseModel):
    token: str
    order_id: str
    amount_rial: int
    state: State
    reference: str | None
    verifications: int
    refunds: int


@dataclass
class Transaction:
    """One token and what became of it."""

    token: str
    order_id: str
    amount_rial: int
    callback_url: str
    description: str
    issued: float
    status: State = State.PENDING
    declines: int = 0
    card: str = ""
    reference: str = ""
    trace: str = ""
    paid: float | None = None
    paid_at: str = ""
    verifications: int = 0
    refund_id: str = ""
    refunded_at: str = ""
    refunds: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def masked(card: str) -> str:
    """A card number as receipts print it: the first six and last four digits."""
    return f"{card[:6]}******{card[-4:]}"


def tomans_and_rials(rial: int) -> str:
    """``۴۵۰٬۰۰۰ تومان (۴٬۵۰۰٬۰۰۰ ریال)``: how Iranian receipts show an amount."""
    def grouped(value: int) -> str:
        return f"{value:,}".replace(",", "٬").translate(_TO_PERSIAN)
    tomans = f"{rial // 10:,}" if rial % 10 == 0 else f"{rial / 10:,.1f}"
    return f"{tomans.replace(',', '٬').replace('.', '٫').translate(_TO_PERSIAN)} تومان ({grouped(rial)} ریال)"


class Ledger:
    """Every token issued, oldest forgotten first once `size` are kept."""

    def __init__(self, seed: int, size: int, clock: Callable[[], float]) -> None:
        self._seed, self._size, self.clock = seed, size, clock
        self._issued = 0
        self.by_token: OrderedDict[str, Transaction] = OrderedDict()
        self.orders: dict[str, str] = {}

    def _draw(self, kind: str, *parts: object) -> bytes:
        return hashlib.sha256(":".join(["panjereh-sandbox-payment", kind, str(self._seed), *map(str, parts)])
                              .encode()).digest()

    def issue(self, request: PaymentRequest) -> Transaction:
        self._issued += 1
        token = self._draw("token", self._issued, request.order_id).hex()[:32]
        txn = Transaction(token, request.order_id, request.amount_rial, request.callback_url, request.description,
                          self.clock())
        self.by_token[token] = txn
        self.orders[request.order_id] = token
        while len(self.by_token) > self._size:
            _, dropped = self.by_token.popitem(last=False)
            self.orders.pop(dropped.order_id, None)
        return txn

    def find(self, token: str) -> Transaction | None:
        txn = self.by_token.get(token)
        if txn is not None:
            self._age(txn)
        return txn

    def _age(self, txn: Transaction) -> None:
        """What time does to a token: an unused one expires, a paid one nobody verified is reversed."""
        now = self.clock()
        if txn.status is State.PENDING and now - txn.issued > TOKEN_SECONDS:
            txn.status = State.EXPIRED
        elif txn.status is State.PAID and txn.paid is not None and now - txn.paid > VERIFY_SECONDS:
            txn.status = State.REVERSED

    def pay(self, txn: Transaction, card: str) -> None:
        digest = self._draw("reference", txn.token)
        txn.status, txn.card, txn.paid, txn.paid_at = State.PAID, masked(card), self.clock(), _now()
        # A retrieval reference number (RRN) is 12 digits, a trace number 6, on Shaparak receipts.
        txn.reference = f"{int.from_bytes(digest[:8], 'big') % 10**12:012d}"
        txn.trace = f"{int.from_bytes(digest[8:12], 'big') % 10**6:06d}"

    def refund_id(self, txn: Transaction) -> str:
        return f"RF{int.from_bytes(self._draw('refund', txn.token)[:8], 'big') % 10**10:010d}"


def _return_to(txn: Transaction, status: Return) -> RedirectResponse:
    """The browser back at the merchant's callback address, with what a PSP sends (and nothing proves)."""
    parts = urlsplit(txn.callback_url)
    params = {"token": txn.token, "status": status.value}
    if status is Return.OK:
        params["reference"] = txn.reference
    query = "&".join(p for p in (parts.query, urlencode(params)) if p)
    return RedirectResponse(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")), status_code=303)


def build(state: ServiceState, api_key: SecretStr, seed: int, clock: Callable[[], float],
          size: int = 10_000) -> FastAPI:
    app = new_agency_app("Payment gateway (sandbox)", __doc__ or "")
    ledger = Ledger(seed, size, clock)
    guarded = bearer_key(api_key)

    def known(token: str) -> Transaction:
        txn = ledger.find(token)
        if txn is None:
            raise AgencyError(404, "unknown-token", "no payment with this token")
        return txn

    @app.post("/requests", status_code=201, dependencies=guarded)
    async def issue(asked: PaymentRequest, request: Request) -> Issued:
        """Issue a token for a payment the citizen will make on the gateway's page."""
        if asked.order_id in ledger.orders:
            raise AgencyError(409, "duplicate-order", "this order id was already used")
        txn = ledger.issue(asked)
        # The page is served beside this endpoint, under whatever prefix the gateway is mounted at.
        here = request.url
        page = f"{here.scheme}://{here.netloc}{request.scope.get('root_path', '')}/pay/{txn.token}"
        return Issued(token=txn.token, order_id=txn.order_id, amount_rial=txn.amount_rial, payment_url=page,
                      expires_in_s=TOKEN_SECONDS)

    @app.post("/verify", dependencies=guarded)
    async def verify(asked: VerifyRequest) -> Verified:
        """Settle a paid token (once), or say again that it was settled."""
        txn = known(asked.token)
        if asked.amount_rial != txn.amount_rial:
            raise AgencyError(409, "amount-mismatch", "the amount is not the one this token was issued for",
                              state=txn.status.value)
        if txn.status in _NOT_VERIFIABLE:
            raise AgencyError(409, _NOT_VERIFIABLE[txn.status], f"the payment is {txn.status.value}",
                              state=txn.status.value)
        first = txn.status is State.PAID
        if first:
            txn.status = State.VERIFIED
            state.side_effects += 1
        txn.verifications += 1
        return Verified(token=txn.token, status="VERIFIED" if first else "ALREADY_VERIFIED",
                        reference=txn.reference, trace=txn.trace, card=txn.card, amount_rial=txn.amount_rial,
                        paid_at=txn.paid_at)

    @app.post("/refunds", dependencies=guarded)
    async def refund(asked: RefundRequest, response: Response) -> Refunded:
        """Give a verified payment back to the card, once."""
        txn = known(asked.token)
        if asked.amount_rial != txn.amount_rial:
            raise AgencyError(409, "amount-mismatch", "a refund is of the whole amount paid", state=txn.status.value)
        if txn.status is State.REFUNDED:
            response.status_code = 200
            return Refunded(refund_id=txn.refund_id, token=txn.token, amount_rial=txn.amount_rial,
                            refunded_at=txn.refunded_at, already_refunded=True)
        if txn.status is not State.VERIFIED:
            raise AgencyError(409, "not-verified", "only a verified payment can be refunded", state=txn.status.value)
        txn.status, txn.refund_id, txn.refunded_at = State.REFUNDED, ledger.refund_id(txn), _now()
        txn.refunds += 1
        state.side_effects += 1
        response.status_code = 201
        return Refunded(refund_id=txn.refund_id, token=txn.token, amount_rial=txn.amount_rial,
                        refunded_at=txn.refunded_at, already_refunded=False)

    @app.get("/transactions/{token}", dependencies=guarded)
    async def inquiry(token: str) -> Inquiry:
        """Where a token stands."""
        txn = known(token)
        return Inquiry(token=txn.token, order_id=txn.order_id, amount_rial=txn.amount_rial, state=txn.status,
                       reference=txn.reference or None, verifications=txn.verifications, refunds=txn.refunds)

    @app.get("/pay/{token}", response_class=HTMLResponse)
    async def payment_page(token: str) -> Response:
        """The page the citizen pays on."""
        txn = ledger.find(token)
        if txn is None:
            return _page(None, "", status=404)
        if txn.status is State.PENDING:
            return _page(txn, "")
        return _back(txn)

    @app.post("/pay/{token}", response_class=HTMLResponse)
    async def pay(token: str, action: Annotated[str, Form()] = "pay",
                  card_number: Annotated[str, Form(max_length=40)] = "") -> Response:
        """Pay with a test card, or cancel."""
        txn = ledger.find(token)
        if txn is None:
            return _page(None, "", status=404)
        if txn.status is not State.PENDING:
            return _back(txn)
        if action == "cancel":
            txn.status = State.CANCELED
            return _back(txn)
        card = compact(card_number).replace("-", "")
        if check_card(card) is not None:
            return _page(txn, "card-invalid", card_number, status=422)
        if card in DECLINED_CARDS:
            txn.declines += 1
            if txn.declines >= MAX_DECLINES:
                txn.status = State.DECLINED
                return _back(txn)
            return _page(txn, "card-declined", card_number, status=422)
        if card not in PAYING_CARDS:
            return _page(txn, "card-not-test", card_number, status=422)
        ledger.pay(txn, card)
        return _back(txn)

    return app


def _back(txn: Transaction) -> Response:
    match txn.status:
        case State.PAID | State.VERIFIED | State.REFUNDED | State.REVERSED:
            return _return_to(txn, Return.OK)
        case State.CANCELED:
            return _return_to(txn, Return.CANCELED)
        case State.EXPIRED:
            return _return_to(txn, Return.EXPIRED)
        case _:
            return _return_to(txn, Return.FAILED)


_ERRORS = {
    "card-invalid": ("شماره کارت درست نیست؛ ۱۶ رقم روی کارت را بنویسید.",
                     "The card number is not valid; enter the 16 digits on the card."),
    "card-declined": ("بانک این پرداخت را نپذیرفت: موجودی کافی نیست. کارت دیگری را امتحان کنید یا انصراف دهید.",
                      "The bank declined the payment: insufficient funds. Try another card or cancel."),
    "card-not-test": ("این درگاه آزمایشی است و فقط کارت‌های آزمایشی را می‌پذیرد.",
                      "This is a test gateway; it takes test cards only."),
}

_STYLE = """
body{font-family:Vazirmatn,Tahoma,sans-serif;margin:0;background:#f3f4f6;color:#111827;line-height:1.7}
main{max-width:32rem;margin:2rem auto;background:#fff;padding:1.5rem;border:1px solid #d1d5db;border-radius:.5rem}
h1{font-size:1.4rem;margin-top:0}.amount{font-size:1.3rem;font-weight:bold}
label{display:block;font-weight:bold;margin-top:1rem}
input{font-size:1.2rem;padding:.5rem;width:100%;box-sizing:border-box;border:2px solid #374151;direction:ltr}
.error{color:#991b1b;border-inline-start:4px solid #991b1b;padding-inline-start:.75rem}
.hint{color:#374151}button{font-size:1.1rem;padding:.6rem 1.2rem;margin-top:1rem;border-radius:.3rem;cursor:pointer}
.skip-link{position:absolute;inset-inline-start:-999px}.skip-link:focus{inset-inline-start:1rem;top:1rem;background:#fff;padding:.5rem}
.pay{background:#065f46;color:#fff;border:2px solid #065f46}
.cancel{background:#fff;color:#991b1b;border:2px solid #991b1b}
"""


def _page(txn: Transaction | None, error: str, card_number: str = "", status: int = 200) -> HTMLResponse:
    """The gateway's page, in Persian with English beside it, usable without JavaScript or a mouse."""
    if txn is None:
        body = ("<h1>پرداخت پیدا نشد <span lang=\"en\" dir=\"ltr\">(Payment not found)</span></h1>"
                "<p>این نشانی پرداخت معتبر نیست. <span lang=\"en\" dir=\"ltr\">This payment address is not valid."
                "</span></p>")
        return HTMLResponse(_html("پرداخت پیدا نشد", body), status_code=status)
    described = "card-hint card-error" if error else "card-hint"
    invalid = ' aria-invalid="true"' if error else ""
    alert = ""
    if error:
        fa, en = _ERRORS[error]
        alert = f'<p class="error" id="card-error" role="alert">{fa} <span lang="en" dir="ltr">{en}</span></p>'
    description = f"<p>{escape(txn.description)}</p>" if txn.description else ""
    body = f"""<h1>درگاه پرداخت اینترنتی (آزمایشی) <span lang="en" dir="ltr">Test payment gateway</span></h1>
{description}<p>مبلغ قابل پرداخت <span lang="en" dir="ltr">(amount)</span>:</p>
<p class="amount">{tomans_and_rials(txn.amount_rial)}</p>
<p class="hint">شماره سفارش <span lang="en" dir="ltr">(order)</span>: <span dir="ltr">{escape(txn.order_id)}</span></p>
<form method="post" action="{escape(txn.token)}" novalidate>
{alert}<label for="card_number">شماره کارت <span lang="en" dir="ltr">Card number</span></label>
<p class="hint" id="card-hint">کارت آزمایشی <span dir="ltr">6037-9912-3456-7893</span>
<span lang="en" dir="ltr">(test card)</span></p>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" maxlength="40"
 value="{escape(card_number)}" aria-describedby="{described}"{invalid}>
<button class="pay" type="submit" name="action" value="pay">پرداخت <span lang="en" dir="ltr">Pay</span></button>
<button class="cancel" type="submit" name="action" value="cancel">انصراف <span lang="en" dir="ltr">Cancel</span>
</button>
</form>"""
    return HTMLResponse(_html("پرداخت", body), status_code=status)


def _html(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="fa" dir="rtl"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} - درگاه آزمایشی'
            f'</title><style>{_STYLE}</style></head><body><a class="skip-link" href="#main">رفتن به فرم پرداخت</a>'
            f'<main id="main" tabindex="-1">{body}</main></body></html>')
