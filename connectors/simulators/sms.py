"""SMS gateway: send a text message, and read back what was "sent".

Both endpoints need ``Authorization: Bearer <key>`` (``PANJEREH_SANDBOX_SMS_API_KEY``, default
``sandbox-sms-key``); a wrong or missing key is 401 ``{"error": "unauthorized", ...}``. The outbox holds
one-time codes, so reading it is authenticated too, even in a sandbox.

``POST /messages`` with ``{"to": "09121234567", "text": "کد ورود شما: 123456"}`` -> 202 ``{"id": "sms-000001"}``.
``to`` may be any form `forms.identifiers.canonical_mobile` accepts (``+989121234567``...) and is stored
canonical; an invalid number is 422 ``{"error": "invalid-mobile", ...}``; ``text`` is 1 to 1000 characters.
Send with an ``Idempotency-Key`` and a retry records nothing new.

``GET /messages?to=09121234567`` -> 200 ``{"messages": [{"id": "sms-000001", "to": "09121234567",
"text": "...", "sent_at": "2025-01-01T10:00:00.000+00:00"}]}``, oldest first; without ``to``, all kept
messages (the newest ``PANJEREH_SANDBOX_SMS_OUTBOX_SIZE``, default 500).
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field, SecretStr

from connectors.simulators.agency import AgencyError, bearer_key, new_agency_app
from connectors.simulators.behaviour import ServiceState
from forms.identifiers import canonical_mobile, check_mobile


class Outgoing(BaseModel):
    to: str
    text: str = Field(min_length=1, max_length=1000)


class Message(BaseModel):
    id: str
    to: str
    text: str
    sent_at: str


class Accepted(BaseModel):
    id: str


class Outbox(BaseModel):
    messages: list[Message]


def _mobile(raw: str) -> str:
    mobile = canonical_mobile(raw)
    reason = check_mobile(mobile)
    if reason is not None:
        raise AgencyError(422, "invalid-mobile", "not an Iranian mobile number", reason=reason)
    return mobile


def build(state: ServiceState, api_key: SecretStr, outbox_size: int) -> FastAPI:
    app = new_agency_app("SMS gateway (sandbox)", __doc__ or "")
    kept: deque[Message] = deque(maxlen=outbox_size)
    guarded = bearer_key(api_key)

    @app.post("/messages", status_code=202, dependencies=guarded)
    async def send(message: Outgoing) -> Accepted:
        """Send a text message."""
        to = _mobile(message.to)
        state.side_effects += 1
        record = Message(id=f"sms-{state.side_effects:06d}", to=to, text=message.text,
                         sent_at=datetime.now(UTC).isoformat(timespec="milliseconds"))
        kept.append(record)
        return Accepted(id=record.id)

    @app.get("/messages", dependencies=guarded)
    async def messages(to: Annotated[str | None, Query(description="mobile number")] = None) -> Outbox:
        """Messages sent, oldest first; optionally only those to one number."""
        wanted = None if to is None else _mobile(to)
        return Outbox(messages=[m for m in kept if wanted is None or m.to == wanted])

    return app
