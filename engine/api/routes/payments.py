"""A case's payments at the bank gateway: what is due, what was paid, refunded or cancelled."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from engine.api.deps import READERS, PrincipalDep, ReadSessionDep, allow
from engine.api.routing import router as make_router
from engine.services import payment_tries

router = make_router("/api/v1", "payments")


class PaymentOut(BaseModel):
    attempt: int = Field(description="1 for the case's first token, then one more for each new try")
    token: str
    status: str = Field(description="pending, verifying, verified, cancelled, failed or refunded")
    amount_rial: int
    description: str
    payment_url: str | None = Field(description="the gateway's page to pay on, while the payment is pending")
    reference: str | None = Field(description="the bank's reference number (RRN), once verified")
    trace: str | None
    card: str | None = Field(description="the card that paid, masked")
    verified_at: datetime | None
    refund_id: str | None
    refunded_at: datetime | None
    problem: str | None = Field(description="why it failed, or why it could not be confirmed last time")
    created_at: datetime


class CasePaymentsOut(BaseModel):
    due: bool = Field(description="the case waits for a payment now")
    payments: list[PaymentOut] = Field(description="oldest first")


@router.get("/instances/{instance_id}/payments", response_model=CasePaymentsOut, **allow(*READERS))
def list_payments(session: ReadSessionDep, principal: PrincipalDep, instance_id: str) -> CasePaymentsOut:
    """The case's payments, and whether it waits for one (pay on `payment_url`; the portal offers a new try)."""
    found = payment_tries.payments_of(session, principal, instance_id)
    return CasePaymentsOut(due=found.due, payments=[PaymentOut.model_validate(p, from_attributes=True)
                                                    for p in found.payments])
