"""Text messages to citizens, through the SMS gateway connector like any other agency call."""

from __future__ import annotations

import logging
import uuid

from connectors.context import make_context
from connectors.sdk import ConnectorError
from engine.services.runtime import Runtime

SEND_SMS = "sms/send"
log = logging.getLogger("panjereh.notify")


def send_sms(runtime: Runtime, to: str, text: str, *, purpose: str, case_id: str | None = None) -> str:
    """Send one message now; returns the gateway's message id.

    Raises:
        ConnectorError: the gateway is missing, refused or could not be reached.
    """
    operation = runtime.connectors.get(SEND_SMS)
    if operation is None:
        raise ConnectorError("unknown-operation", f"no '{SEND_SMS}' connector is installed")
    message_id = str(uuid.uuid4())
    settings = runtime.settings
    context = make_context(timeout=settings.connector_timeout_seconds, case_id=case_id or message_id,
                           purpose=purpose, end_user=None, attempt=1, idempotency_key=f"panjereh-sms-{message_id}",
                           secrets=settings.connector_secrets(), logger=log, transport=runtime.connector_transport)
    try:
        result = operation.call(context, {"to": to, "text": text})
    finally:
        context.http.close()
    return str(result["id"])
