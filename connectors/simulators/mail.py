"""E-mail relay: send a message to a citizen's address, and read back what was "sent".

Both endpoints need ``Authorization: Bearer <key>`` (``PANJEREH_SANDBOX_MAIL_API_KEY``, default
``sandbox-mail-key``); a wrong or missing key is 401 ``{"error": "unauthorized", ...}``.

``POST /messages`` with ``{"to": "name@example.ir", "subject": "...", "text": "..."}`` -> 202
``{"id": "mail-000001"}``. ``to`` is one address (at most 254 characters, one ``@``, a dotted
domain), stored in lower case; anything else is 422 ``{"error": "invalid-address", ...}``.
``subject`` is 1 to 200 characters, ``text`` 1 to 10,000. Send with an ``Idempotency-Key`` and a
retry records nothing new.

``GET /messages?to=name@example.ir`` -> 200 ``{"messages": [{"id", "to", "subject", "text",
"sent_at"}]}``, oldest first; without ``to``, all kept messages (the newest 500).
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field, SecretStr

from connectors.simulators.agency import AgencyError, bearer_key, new_agency_app
from connectors.simulators.behaviour import ServiceState
from forms.identifiers import canonical_email, check_email

OUTBOX_SIZE = 500


class Outgoing(BaseModel):
    to: str = Field(max_length=254)
    subject: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=10_000)


class Message(BaseModel):
    id: str
    to: str
    subject: str
    text: str
    sent_at: str


class Accepted(BaseModel):
    id: str


class Outbox(BaseModel):
    messages: list[Message]


def _address(raw: str) -> str:
    address = canonical_email(raw)
    reason = check_email(address)
    if reason is not None:
        raise AgencyError(422, "invalid-address", "not an e-mail address", reason=reason)
    return address


def build(state: ServiceState, api_key: SecretStr) -> FastAPI:
    app = new_agency_app("E-mail relay (sandbox)", __doc__ or "")
    kept: deque[Message] = deque(maxlen=OUTBOX_SIZE)
    guarded = bearer_key(api_key)

    @app.post("/messages", status_code=202, dependencies=guarded)
    async def send(message: Outgoing) -> Accepted:
        """Send an e-mail."""
        to = _address(message.to)
        state.side_effects += 1
        record = Message(id=f"mail-{state.side_effects:06d}", to=to, subject=message.subject, text=message.text,
                         sent_at=datetime.now(UTC).isoformat(timespec="milliseconds"))
        kept.append(record)
        return Accepted(id=record.id)

    @app.get("/messages", dependencies=guarded)
    async def messages(to: Annotated[str | None, Query(max_length=254, description="e-mail address")] = None) -> Outbox:
        """Messages sent, oldest first; optionally only those to one address."""
        wanted = None if to is None else _address(to)
        return Outbox(messages=[m for m in kept if wanted is None or m.to == wanted])

    return app
