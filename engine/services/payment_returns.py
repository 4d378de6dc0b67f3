"""The citizen back from the bank gateway: verify the payment, server to server, then tell the case once.

The gateway sends the browser back with a token, a status and a reference, none of which
proves anything: anyone can type that address, repeat it, or bring another case's token.
So the token only names a payment row (unknown: not found), and the gateway itself is then
asked whether the money was taken, for the amount this case asked. Like a connector call
(`engine.services.service_calls`), that is three steps, so no lock is held while the bank
answers:

1. claim: lock the row by its token. A settled payment is answered as it stands; one that
   another return is verifying right now is waited for a few seconds; a payment whose case
   no longer waits for it is not verified at all (unverified, the bank gives the money back
   by itself). Otherwise the row moves to VERIFYING, and the claim commits.
2. verify: ask the gateway, outside any transaction.
3. settle: only if the claim is still this return's, as a rehearsed unit of work
   (`engine.services.rehearsal`). Verified: the row moves to VERIFIED and the case receives
   `PAYMENT_MESSAGE` through the instance store, in the same transaction,
   so the case moves on exactly when (and once) the payment is recorded. Refused: CANCELLED
   or FAILED, and the citizen may pay again. No answer: back to PENDING, nothing lost; the
   citizen is told to come back, and the same return then verifies.

A case may ask for several payments, one after the other (instalments): each is its own
`payment/request` and its own row, and only the newest row answers the case's wait, so a
token of an earlier request, left payable at the bank, never pays a later one.

A claim whose return died (the server was killed mid-verify) is taken again once it is
older than a few connector timeouts; verifying twice is harmless, since the gateway answers
ALREADY_VERIFIED with the same reference.

A citizen who paid and then closed the browser never comes back at all, and a bank gives back
money nobody verified within about half an hour. So `reconcile` (run each minute by the
background upkeep, `engine.services.upkeep`) verifies every payment still pending a minute
after its token was issued, through the same three steps: a paid one is verified and its case
moves on as if the citizen had returned, an expired one ends, an unpaid one stays payable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk import ConnectorError
from engine import audit
from engine.core.changes import CatchMessage
from engine.core.statuses import OPEN_PAYMENTS, PaymentStatus, moved
from engine.db.base import utcnow
from engine.db.models import Instance, MessageWaitRow, Payment
from engine.services.errors import LostRace, NotFound
from engine.services.event_delivery import apply_routed
from engine.services.instance_store import Cause
from engine.services.payments import (
    ACTOR,
    GATEWAY_RETRY_AFTER,
    PAYMENT_MESSAGE,
    VERIFY,
    PaymentView,
    call_gateway,
    newest_attempt,
    view,
    waits_for_payment,
)
from engine.services.ratelimit import hit
from engine.services.rehearsal import run_rehearsed
from engine.services.runtime import Runtime

# Returns one client address may bring in an hour: a browser's repeats, not a guessing run.
RETURNS_PER_HOUR = 60
# How long a repeated return waits for the one verifying the same payment before answering "being confirmed".
SETTLE_WAIT_SECONDS = 5.0
SETTLE_TRIES = 3
MAX_TOKEN = 64
# A payment is reconciled once its token is this old (the citizen has had time to come back)...
RECONCILE_AFTER = timedelta(minutes=1)
# ...and this many at a time, so one sweep stays short however many citizens walked away.
RECONCILE_BATCH = 50
# The gateway's refusals that end a payment; "not-paid" leaves it payable, anything else means it could not answer.
ENDED_BY = {"cancelled": PaymentStatus.CANCELLED, "declined": PaymentStatus.FAILED,
            "expired": PaymentStatus.FAILED, "reversed": PaymentStatus.FAILED,
            "amount-mismatch": PaymentStatus.FAILED, "unknown-token": PaymentStatus.FAILED,
            "refunded": PaymentStatus.FAILED}
log = logging.getLogger("panjereh.payments")


@dataclass(frozen=True)
class Returned:
    """What a return from the gateway found: the payment as it stands now, and its case.

    `retry_after` is set when the gateway could not be asked, so the citizen should come back
    (nothing was lost).
    """

    payment: PaymentView
    instance_id: str
    retry_after: int | None = None


@dataclass(frozen=True)
class _Claim:
    row_id: int
    token: str
    instance_id: str
    owner: str
    amount_rial: int
    claimed_at: datetime


def returned(runtime: Runtime, token: str, client: str) -> Returned:
    """Verify the payment `token` names and let its case move on once (see the module docstring).

    Raises:
        NotFound: no payment has this token.
        RateLimited: `client` brought too many returns in the last hour.
    """
    token = token.strip()
    with runtime.unit_of_work() as session:
        hit(session, f"payment-return:{client}", RETURNS_PER_HOUR, timedelta(hours=1))
    if not 0 < len(token) <= MAX_TOKEN:
        raise NotFound("no payment with this token")
    claim = _claim(runtime, token)
    if isinstance(claim, Returned):
        return _awaited(runtime, claim) if claim.payment.status is PaymentStatus.VERIFYING else claim
    return _verify(runtime, claim)


def reconcile(runtime: Runtime, now: datetime | None = None, limit: int = RECONCILE_BATCH) -> list[Returned]:
    """Verify the payments nobody came back for (see the module docstring); what each became.

    Only payments older than `RECONCILE_AFTER` are asked about, so a citizen at the gateway's
    page right now is not raced, and at most `limit` of them, oldest first, per call.
    """
    before = (now or utcnow()) - RECONCILE_AFTER
    with runtime.reading() as session:
        tokens = list(session.execute(
            select(Payment.token).where(Payment.status == PaymentStatus.PENDING, Payment.created_at <= before)
            .order_by(Payment.created_at).limit(limit)).scalars())
    settled = []
    for token in tokens:
        claim = _claim(runtime, token)
        settled.append(claim if isinstance(claim, Returned) else _verify(runtime, claim))
    return settled


def _verify(runtime: Runtime, claim: _Claim) -> Returned:
    """Ask the gateway about a claimed payment, outside any transaction, then settle what it said."""
    try:
        answer: dict[str, Any] | ConnectorError = call_gateway(
            runtime, VERIFY, {"token": claim.token, "amount_rial": claim.amount_rial}, case_id=claim.instance_id,
            end_user=claim.owner if ":" not in claim.owner else None, idempotency_key=f"panjereh-verify-{claim.token}")
    except ConnectorError as error:
        answer = error
    return _settle(runtime, claim, answer)


def _claim(runtime: Runtime, token: str) -> _Claim | Returned:
    stale = timedelta(seconds=runtime.settings.connector_timeout_seconds * 3)
    with runtime.unit_of_work() as session:
        row = session.execute(select(Payment).where(Payment.token == token).with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound("no payment with this token")
        now = utcnow()
        fresh = row.claimed_at is not None and row.claimed_at > now - stale
        if row.status not in OPEN_PAYMENTS or (row.status is PaymentStatus.VERIFYING and fresh):
            return Returned(view(row), row.instance_id)
        if not waits_for_payment(session, row.instance_id):
            # Not verified, so the bank returns the money by itself: a case that has moved on
            # (paid with another token, or stopped) must not keep a second payment.
            _ended(session, row, PaymentStatus.FAILED, "case-not-waiting: the case no longer waits for this payment")
            return Returned(view(row), row.instance_id)
        if row.attempt != newest_attempt(session, row.instance_id):
            # A case may ask for several payments (instalments, or a new amount after a reminder);
            # the one it waits for is its newest. An older token, still payable at the bank, must
            # not answer a later request for another amount, so it is not verified either.
            _ended(session, row, PaymentStatus.FAILED,
                   "superseded: the case asked for a newer payment; this one is not the one it waits for")
            return Returned(view(row), row.instance_id)
        row.status = moved(row.status, PaymentStatus.VERIFYING, f"payment {row.token}")
        row.claimed_at = now
        owner = session.execute(select(Instance.owner).where(Instance.id == row.instance_id)).scalar_one()
        return _Claim(row.id, row.token, row.instance_id, owner, row.amount_rial, now)


def _awaited(runtime: Runtime, found: Returned) -> Returned:
    """The payment once the return verifying it has settled, or as it is after a few seconds."""
    deadline = time.monotonic() + SETTLE_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.1)
        with runtime.reading() as session:
            row = session.execute(select(Payment).where(Payment.token == found.payment.token)).scalar_one()
            if row.status is not PaymentStatus.VERIFYING:
                return Returned(view(row), row.instance_id)
    return found


def _settle(runtime: Runtime, claim: _Claim, answer: dict[str, Any] | ConnectorError) -> Returned:
    for attempt in range(1, SETTLE_TRIES + 1):
        try:
            # Rehearsed: the case's model code runs outside the transaction that holds the row lock.
            return run_rehearsed(runtime, lambda session: _settle_once(session, runtime, claim, answer))
        except LostRace:
            # Someone changed the case at the same moment; the gateway's answer is in hand, so
            # settle again on a fresh read rather than ask again.
            log.info("payment %s: the case changed while settling (try %d of %d)", claim.token, attempt, SETTLE_TRIES)
    with runtime.reading() as session:
        row = session.execute(select(Payment).where(Payment.id == claim.row_id)).scalar_one()
        return Returned(view(row), row.instance_id)


def _settle_once(session: Session, runtime: Runtime, claim: _Claim,
                 answer: dict[str, Any] | ConnectorError) -> Returned:
    row = session.execute(select(Payment).where(Payment.id == claim.row_id).with_for_update()).scalar_one()
    if row.status is not PaymentStatus.VERIFYING or row.claimed_at != claim.claimed_at:
        # A later return took the claim over (this one was presumed dead) and settles it.
        return Returned(view(row), row.instance_id)
    if isinstance(answer, dict):
        _verified(session, runtime, row, answer)
        return Returned(view(row), row.instance_id)
    ended = ENDED_BY.get(answer.code)
    if ended is not None:
        _ended(session, row, ended, f"{answer.code}: {answer.message}")
        return Returned(view(row), row.instance_id)
    row.status = moved(row.status, PaymentStatus.PENDING, f"payment {row.token}")
    row.claimed_at, row.last_error = None, f"{answer.code}: {answer.message}"[:500]
    if answer.code == "not-paid":
        return Returned(view(row), row.instance_id)
    log.warning("payment %s of case %s could not be verified (%s); the citizen is asked to come back", row.token,
                row.instance_id, answer)
    return Returned(view(row), row.instance_id, retry_after=int(answer.retry_after or GATEWAY_RETRY_AFTER))


def _verified(session: Session, runtime: Runtime, row: Payment, answer: dict[str, Any]) -> None:
    now = utcnow()
    row.status = moved(row.status, PaymentStatus.VERIFIED, f"payment {row.token}")
    row.reference, row.trace = str(answer["reference"])[:32], str(answer["trace"])[:32]
    row.card, row.verified_at, row.claimed_at, row.last_error = str(answer["card"])[:32], now, None, None
    payload = {"token": row.token, "attempt": row.attempt, "amount_rial": row.amount_rial, "reference": row.reference,
               "trace": row.trace, "card": row.card, "paid_at": answer.get("paid_at"), "verified_at": now.isoformat()}
    detail = {"attempt": row.attempt, "token": row.token, "reference": row.reference, "amount_rial": row.amount_rial}
    wait = session.execute(select(MessageWaitRow).where(
        MessageWaitRow.instance_id == row.instance_id, MessageWaitRow.name == PAYMENT_MESSAGE)
        .order_by(MessageWaitRow.id).limit(1)).scalar_one_or_none()
    instance = session.get(Instance, row.instance_id)
    applied = None
    # Only the newest payment answers the wait (see the module docstring): one that was claimed
    # before the case asked for a newer one is verified money the case did not wait for.
    if wait is not None and instance is not None and row.attempt == newest_attempt(session, row.instance_id):
        applied = apply_routed(session, runtime, instance, CatchMessage(PAYMENT_MESSAGE, payload),
                               Cause(ACTOR, "payment.verified", wait.element_id, detail))
    if applied is None:
        # The case stopped waiting between the claim and now (it was terminated): the money is
        # taken and verified, so an operator must refund it; the log and the audit say so.
        row.last_error = "case-not-waiting: verified after the case stopped waiting; refund it"
        audit.append(session, ACTOR, "payment.unclaimed", instance_id=row.instance_id, detail=detail)
        log.error("payment %s of case %s was verified after the case stopped waiting for it; refund it", row.token,
                  row.instance_id)


def _ended(session: Session, row: Payment, status: PaymentStatus, reason: str) -> None:
    row.status = moved(row.status, status, f"payment {row.token}")
    row.claimed_at, row.last_error = None, reason[:500]
    audit.append(session, ACTOR, f"payment.{status}", instance_id=row.instance_id,
                 detail={"attempt": row.attempt, "token": row.token, "reason": reason.partition(":")[0]})
