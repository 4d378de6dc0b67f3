"""Messages and signals from outside: correlated to waiting instances, or starting new ones."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from engine.api.deps import PrincipalDep, RuntimeDep, WriterDep, allow
from engine.api.routing import router as make_router
from engine.security.principals import Role
from engine.services import event_delivery
from engine.services.input_bounds import MESSAGE_NAME_LENGTH, SIGNAL_NAME_LENGTH
from engine.services.transaction import Transaction

router = make_router("/api/v1", "events")
MAX_TTL_SECONDS = 30 * 24 * 3600


class MessageIn(BaseModel):
    name: str = Field(min_length=1, max_length=MESSAGE_NAME_LENGTH, description="the message name in the model")
    correlation: str | None = Field(None, description="the value the waiting instance correlates on, of any "
                                                      "length (within the body's size limit); null for none")
    payload: dict[str, Any] = Field(default_factory=dict)
    ttl_seconds: int | None = Field(None, ge=1, le=MAX_TTL_SECONDS,
                                    description="how long to keep it when nobody waits yet (default: a setting)")


class MessageOut(BaseModel):
    outcome: Literal["delivered", "started", "buffered"]
    instances: list[str]
    buffer_id: str | None = None


class SignalIn(BaseModel):
    name: str = Field(min_length=1, max_length=SIGNAL_NAME_LENGTH)
    payload: dict[str, Any] = Field(default_factory=dict)


class SignalOut(BaseModel):
    instances: list[str] = Field(description="waiting instances the signal reached")
    started: list[str] = Field(description="instances its signal start events started")


@router.post("/messages", response_model=MessageOut, **allow(Role.ADMIN, Role.STAFF),
             responses={409: {"description": "the receiving instance changed at the same time; retry"},
                        422: {"description": "the payload lacks what the model correlates on, or is refused"}})
def send_message(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, body: MessageIn) -> MessageOut:
    """Deliver a message to the instance waiting for it, start a process on it, or keep it for later."""
    def work(session: Transaction) -> event_delivery.MessageOutcome:
        return event_delivery.deliver_message(session, runtime, principal.actor, body.name, body.correlation,
                                              body.payload, body.ttl_seconds)

    outcome = write.rehearsed(work)
    return MessageOut(outcome=outcome.outcome, instances=outcome.instances, buffer_id=outcome.buffer_id)


@router.post("/signals", response_model=SignalOut, **allow(Role.ADMIN, Role.STAFF),
             responses={409: {"description": "a receiving instance changed at the same time; retry"}})
def send_signal(write: WriterDep, runtime: RuntimeDep, principal: PrincipalDep, body: SignalIn) -> SignalOut:
    """Broadcast a signal to every instance waiting for it and to its signal start events."""
    def work(session: Transaction) -> event_delivery.SignalOutcome:
        return event_delivery.broadcast_signal(session, runtime, principal.actor, body.name, body.payload)

    outcome = write.rehearsed(work)
    return SignalOut(instances=outcome.delivered, started=outcome.started)
