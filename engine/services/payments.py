"""Fees paid at a bank gateway: the payments a case has, paying again, and the gateway's calls.

A model asks for a payment with a service task bound to ``payment/request`` (the amount from
its fee table) and then waits at a catch of the message ``payment_verified``
(`PAYMENT_MESSAGE`). When the request's answer is applied, the token it brought is kept
here as a `Payment` row in the same transaction (`record_call_result`), so the case page can
offer "Pay" at once. The citizen pays on the gateway's own page and comes back to the
callback address, where `engine.services.payment_returns` verifies the payment with the
gateway before the case hears of it. A cancelled or failed payment may be followed by a new
token (`engine.services.payment_tries`); a refund asked by the model (``payment/refund``) is
recorded on the payment it gave back.

Only the engine delivers `PAYMENT_MESSAGE` (`event_delivery.deliver_message` refuses it
from anyone else), so no message sent through the API can stand in for a payment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from connectors.failures import INCIDENT_CODES
from connectors.sdk import ConnectorError
from engine import audit
from engine.core.statuses import OPEN_INSTANCE, PaymentStatus, moved
from engine.db.base import utcnow
from engine.db.models import Instance, MessageWaitRow, Payment, ServiceCallRow
from engine.services.runtime import Runtime

REQUEST, VERIFY, REFUND = "payment/request", "payment/verify", "payment/refund"
PAYMENT_MESSAGE = "payment_verified"
ACTOR = "payment-gateway"
# Seconds a citizen is told to wait when the gateway cannot be reached.
GATEWAY_RETRY_AFTER = 30
log = logging.getLogger("panjereh.payments")


class GatewayUnavailable(Exception):
    """The gateway could not be asked now; nothing changed, and the same request may work after `retry_after`."""

    def __init__(self, message: str, retry_after: int = GATEWAY_RETRY_AFTER) -> None:
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class PaymentView:
    """One payment of a case, as the citizen, the pages and the API see it."""

    attempt: int
    token: str
    status: PaymentStatus
    amount_rial: int
    description: str
    payment_url: str | None
    reference: str | None
    trace: str | None
    card: str | None
    verified_at: datetime | None
    refund_id: str | None
    refunded_at: datetime | None
    problem: str | None
    created_at: datetime


@dataclass(frozen=True)
class CasePayments:
    """A case's payments, oldest first, and whether it waits for one now."""

    due: bool
    payments: list[PaymentView]

    @property
    def newest(self) -> PaymentView | None:
        return self.payments[-1] if self.payments else None


def view(row: Payment) -> PaymentView:
    """What may be shown of a payment row; its page address only while it can still be paid."""
    return PaymentView(
        attempt=row.attempt, token=row.token, status=row.status, amount_rial=row.amount_rial,
        description=row.description, payment_url=row.payment_url if row.status is PaymentStatus.PENDING else None,
        reference=row.reference, trace=row.trace, card=row.card, verified_at=row.verified_at,
        refund_id=row.refund_id, refunded_at=row.refunded_at,
        problem=(row.last_error or "").partition(":")[0] or None, created_at=row.created_at)


def waits_for_payment(session: Session, instance_id: str) -> bool:
    """Whether the instance is open and one of its catches waits for `PAYMENT_MESSAGE` now."""
    return session.execute(select(exists().where(
        MessageWaitRow.instance_id == Instance.id, MessageWaitRow.name == PAYMENT_MESSAGE,
        Instance.id == instance_id, Instance.status.in_(OPEN_INSTANCE)))).scalar_one()


def newest_attempt(session: Session, instance_id: str) -> int:
    """The number of the case's newest payment, the one its wait is for; 0 when it has none."""
    return int(session.execute(select(func.max(Payment.attempt)).where(Payment.instance_id == instance_id))
               .scalar_one() or 0)


def case_payments(session: Session, instance_id: str) -> CasePayments:
    """The payments of a case the caller was allowed to see (`queries.load_instance`)."""
    rows = session.execute(select(Payment).where(Payment.instance_id == instance_id)
                           .order_by(Payment.attempt)).scalars().all()
    return CasePayments(waits_for_payment(session, instance_id), [view(row) for row in rows])


def record_call_result(session: Session, call: ServiceCallRow, result: Any) -> None:
    """Keep what a payment call brought, in the transaction that hands it to the instance.

    A request's token becomes the case's newest payment; a refund marks the payment it gave
    back. Other operations are not payments, and are left alone.
    """
    if not isinstance(result, dict):
        return
    if call.operation == REQUEST:
        _record_request(session, call, result)
    elif call.operation == REFUND:
        _record_refund(session, call, result)


def _record_request(session: Session, call: ServiceCallRow, result: dict[str, Any]) -> None:
    token = str(result.get("token", ""))
    if not token or session.execute(select(Payment.id).where(Payment.token == token)).first() is not None:
        return
    # What was asked is what will be verified: the amount comes from the call, not from the answer.
    add(session, call.instance_id, call.id, token, str(result.get("order_id", "")), int(call.params["amount_rial"]),
        str(call.params.get("description") or ""), str(result.get("payment_url", "")), ACTOR)


def add(session: Session, instance_id: str, call_id: str | None, token: str, order_id: str, amount_rial: int,
        description: str, payment_url: str, actor: str, attempt: int | None = None) -> Payment:
    """A new token for the case, numbered `attempt` (by default after its others); a number
    already taken, like a token already kept, fails the transaction as a conflict."""
    if attempt is None:
        attempt = newest_attempt(session, instance_id) + 1
    row = Payment(instance_id=instance_id, attempt=attempt, call_id=call_id, token=token, order_id=order_id[:64],
                  amount_rial=amount_rial, description=description[:255], payment_url=payment_url[:500],
                  status=moved(None, PaymentStatus.PENDING, "payment"))
    session.add(row)
    session.flush()
    audit.append(session, actor, "payment.requested", instance_id=instance_id, subject=None,
                 detail={"attempt": attempt, "token": token, "order_id": order_id, "amount_rial": amount_rial})
    return row


def _record_refund(session: Session, call: ServiceCallRow, result: dict[str, Any]) -> None:
    row = session.execute(select(Payment).where(Payment.token == str(result.get("token", "")),
                                                Payment.instance_id == call.instance_id)
                          .with_for_update()).scalar_one_or_none()
    if row is None:
        log.warning("refund %s of instance %s names no payment of the case", result.get("refund_id"), call.instance_id)
        return
    if row.status is PaymentStatus.REFUNDED:
        return
    row.status = moved(row.status, PaymentStatus.REFUNDED, f"payment {row.token}")
    row.refund_id, row.refunded_at = str(result.get("refund_id", ""))[:32], utcnow()
    audit.append(session, ACTOR, "payment.refunded", instance_id=row.instance_id, subject=call.spec_id,
                 detail={"attempt": row.attempt, "token": row.token, "refund_id": row.refund_id,
                         "amount_rial": row.amount_rial})


def call_gateway(runtime: Runtime, operation_id: str, params: dict[str, Any], *, case_id: str, end_user: str | None,
                 idempotency_key: str) -> dict[str, Any]:
    """Ask the gateway now, server to server, as a connector call outside any transaction.

    Raises:
        ConnectorError: the gateway's own refusal (a final code), or why it could not be asked.
    """
    operation = runtime.connectors.get(operation_id)
    if operation is None:
        raise ConnectorError("unknown-operation", f"no '{operation_id}' connector is installed")
    context = runtime.connector_context(operation, case_id=case_id, purpose="payment", end_user=end_user, attempt=1,
                                        idempotency_key=idempotency_key, logger=log)
    try:
        return operation.call(context, params)
    except ConnectorError as error:
        if error.code in INCIDENT_CODES:
            # The citizen is only told to try later; the operator must learn what to fix.
            log.error("%s cannot be called: %s", operation_id, error)
        raise
    finally:
        context.http.close()
