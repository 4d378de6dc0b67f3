"""Paying a case's fee from its page: the pending payment's page, or a new token after a cancel.

The first token comes from the model's `payment/request` task (`engine.services.payments`);
a cancelled or failed payment leaves the case waiting, and the citizen's "pay again" asks the
gateway for a new token for the same amount, server to server, numbered after the others.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from connectors.sdk import ConnectorError
from engine.core.statuses import UNPAID_PAYMENTS, PaymentStatus
from engine.security.principals import Principal, Role
from engine.services import queries
from engine.services.errors import Conflict, NotFound
from engine.services.payments import (
    GATEWAY_RETRY_AFTER,
    REQUEST,
    CasePayments,
    GatewayUnavailable,
    PaymentView,
    add,
    call_gateway,
    case_payments,
    view,
    waits_for_payment,
)
from engine.services.ratelimit import hit
from engine.services.runtime import Runtime
from engine.services.transaction import Transaction

# New tokens one case may ask for in an hour: enough for any citizen's retries, not for a loop.
TRIES_PER_HOUR = 10
log = logging.getLogger("panjereh.payments")


def payments_of(session: Transaction, principal: Principal, instance_id: str) -> CasePayments:
    """The payments of a case `principal` may see; NotFound otherwise."""
    queries.load_instance(session, principal, instance_id)
    return case_payments(session, instance_id)


def try_again(runtime: Runtime, principal: Principal, instance_id: str) -> PaymentView:
    """Where the citizen pays now: the case's pending payment, or a new token after a cancelled
    or failed one.

    Raises:
        NotFound: no such case, or not one `principal` may pay for.
        Conflict: the case waits for no payment, or its payment is being confirmed or is made.
        GatewayUnavailable: the gateway could not be asked for a new token.
        RateLimited: the case asked for too many tokens in the last hour.
    """
    if principal.role not in (Role.CITIZEN, Role.ADMIN, Role.ANALYST):
        raise NotFound(f"no instance {instance_id}")
    with runtime.reading() as session:
        instance = queries.load_instance(session, principal, instance_id)
        due = case_payments(session, instance_id)
        tracking, owner = instance.tracking_code, instance.owner
    newest = due.newest
    if not due.due or newest is None:
        raise Conflict("this case waits for no payment now")
    if newest.status is PaymentStatus.PENDING:
        return newest
    if newest.status not in UNPAID_PAYMENTS:
        raise Conflict(f"this case's payment is {newest.status}")
    with runtime.unit_of_work() as session:
        hit(session, f"payment-try:{instance_id}", TRIES_PER_HOUR, timedelta(hours=1))
    attempt = newest.attempt + 1
    try:
        issued = call_gateway(runtime, REQUEST, {"amount_rial": newest.amount_rial, "description": newest.description},
                              case_id=instance_id, end_user=owner if ":" not in owner else None,
                              idempotency_key=f"panjereh-{instance_id}-{attempt}")
    except ConnectorError as error:
        raise GatewayUnavailable(f"the payment gateway could not give a new token: {error.code}",
                                 int(error.retry_after or GATEWAY_RETRY_AFTER)) from error
    with runtime.unit_of_work() as session:
        if not waits_for_payment(session, instance_id):
            raise Conflict("this case waits for no payment now")
        row = add(session, instance_id, None, str(issued["token"]), str(issued["order_id"]), newest.amount_rial,
                  newest.description, str(issued["payment_url"]), principal.actor, attempt)
        log.info("payment %d of case %s (%s): a new token after a %s one", row.attempt, instance_id, tracking,
                 newest.status)
        return view(row)
