"""Calls the portal makes to other agencies outside any case: sign-in texts, news of a case by
text or e-mail, and the mobile-ownership check, through connectors like every other agency call.

They fail closed: when the connector is missing, not configured or unreachable, the caller
gets a `ConnectorError` and signs nobody in; no answer is ever made up in its place.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from connectors.failures import INCIDENT_CODES
from connectors.sdk import ConnectorError
from engine.services.runtime import Runtime

SEND_SMS = "sms/send"
SEND_MAIL = "mail/send"
OWNS_MOBILE = "mobile_registry/owns_mobile"
log = logging.getLogger("panjereh.notify")


def _call(runtime: Runtime, operation_id: str, params: dict[str, Any], *, purpose: str, case_id: str | None,
          end_user: str | None, idempotency_key: str | None = None) -> dict[str, Any]:
    operation = runtime.connectors.get(operation_id)
    try:
        if operation is None:
            raise ConnectorError("unknown-operation", f"no '{operation_id}' connector is installed")
        call_id = str(uuid.uuid4())
        context = runtime.connector_context(operation, case_id=case_id or call_id, purpose=purpose,
                                            end_user=end_user, attempt=1,
                                            idempotency_key=idempotency_key or f"panjereh-{call_id}",
                                            logger=log)
        try:
            return operation.call(context, params)
        finally:
            context.http.close()
    except ConnectorError as error:
        if error.code in INCIDENT_CODES:
            # The citizen is only told to try later; the operator must learn what to fix.
            log.error("%s (%s) cannot be called: %s", operation_id, purpose, error)
        raise


def send_sms(runtime: Runtime, to: str, text: str, *, purpose: str, case_id: str | None = None,
             idempotency_key: str | None = None) -> str:
    """Send one message now; returns the gateway's message id. The same `idempotency_key`
    sent again (a retry after a lost answer) texts nobody twice.

    Raises:
        ConnectorError: the gateway is missing, refused or could not be reached.
    """
    return str(_call(runtime, SEND_SMS, {"to": to, "text": text}, purpose=purpose, case_id=case_id,
                     end_user=None, idempotency_key=idempotency_key)["id"])


def send_mail(runtime: Runtime, to: str, subject: str, text: str, *, purpose: str, case_id: str | None = None,
              idempotency_key: str | None = None) -> str:
    """Send one e-mail now; returns the relay's message id (the same key sent again sends nothing twice).

    Raises:
        ConnectorError: the relay is missing, refused or could not be reached.
    """
    return str(_call(runtime, SEND_MAIL, {"to": to, "subject": subject, "text": text}, purpose=purpose,
                     case_id=case_id, end_user=None, idempotency_key=idempotency_key)["id"])


def owns_mobile(runtime: Runtime, national_code: str, mobile: str) -> bool:
    """Whether the operators' registry has `mobile` in the name of `national_code`.

    Raises:
        ConnectorError: the check could not be made; sign-in then fails closed.
    """
    return bool(_call(runtime, OWNS_MOBILE, {"national_code": national_code, "mobile": mobile},
                      purpose="sign-in", case_id=None, end_user=national_code)["match"])
