"""Building the context a connector operation runs in: one HTTP client per call.

Every request a connector makes carries the context an agency needs to decide and to log
(X-Road sends the same as `X-Road-Issue` and `X-Road-UserId`): which case asked, for what
purpose, on whose behalf, which attempt, and an idempotency key that repeats on retries so
the agency can drop a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from urllib.parse import quote

import httpx

from connectors.sdk import API_VERSION, ConnectorContext

CONNECT_TIMEOUT = 3.0
CASE_HEADER = "X-Panjereh-Case"
PURPOSE_HEADER = "X-Panjereh-Purpose"
END_USER_HEADER = "X-Panjereh-End-User"
ATTEMPT_HEADER = "X-Panjereh-Attempt"
IDEMPOTENCY_HEADER = "Idempotency-Key"

# Everything printable in ASCII except "%", so a receiver can always percent-decode.
_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def header_value(value: str) -> str:
    """`value` made safe for an HTTP header: UTF-8 percent-encoded outside printable ASCII.

    Purposes and names may be Persian, and a header must not carry raw non-ASCII bytes or a
    line break; ASCII values without "%" pass through unchanged.
    """
    return quote(value, safe=_SAFE)


def owned_secrets(connector_id: str, secrets: Mapping[str, str], connector_ids: Collection[str] = ()) -> dict[str, str]:
    """The secrets connector `connector_id` may read: those named ``<id>_...``, names in lower case.

    Ids may overlap (``tax`` and ``tax_office``): a name that starts with a longer installed
    id (``tax_office_token``) belongs to that connector alone, never to the shorter one.
    This is the one rule; the engine and the authors' test kit both apply it through
    `make_context`, so a connector that passes its tests reads the same secrets in production.
    """
    own = f"{connector_id.lower()}_"
    longer = [f"{other.lower()}_" for other in connector_ids
              if len(other) > len(connector_id) and f"{other.lower()}_".startswith(own)]
    found: dict[str, str] = {}
    for name, value in secrets.items():
        key = name.lower()
        if key.startswith(own) and not any(key.startswith(prefix) for prefix in longer):
            found[key] = value
    return found


def make_context(*, timeout: float, case_id: str, purpose: str, idempotency_key: str,
                 end_user: str | None = None, attempt: int = 1,
                 base_headers: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 connector_id: str = "",
                 secrets: Mapping[str, str] | None = None,
                 connector_ids: Collection[str] = (),
                 logger: logging.Logger | None = None) -> ConnectorContext:
    """A `ConnectorContext` whose client sends the context headers on every request.

    Args:
        timeout: seconds to wait for an answer (read, write and pool); connecting gets at
            most `CONNECT_TIMEOUT`, since an agency that does not accept a connection in
            3 s is down rather than slow.
        case_id: the instance the call is for.
        purpose: why the data is asked (service key or legal basis).
        idempotency_key: the same on every attempt of one call.
        end_user: the citizen's national code, when known.
        attempt: 1 on the first try.
        base_headers: further headers (an API key header, say); the context headers win.
        transport: where requests go instead of the network (tests, the embedded sandbox).
        connector_id: the connector the call is for; required when `secrets` are given.
        secrets: every secret there is, by name; the context holds only those
            `owned_secrets` gives `connector_id`, for `ctx.secret(name)`.
        connector_ids: every installed connector id, so overlapping ids keep their own secrets.
        logger: where the operation logs; defaults to ``panjereh.connectors``.

    The caller closes `ctx.http` when the call is over.
    """
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if secrets and not connector_id:
        raise ValueError("secrets are handed to a named connector only: pass connector_id")
    headers = httpx.Headers({"User-Agent": f"Panjereh (connector API {API_VERSION})"})
    headers.update(base_headers or {})
    # Set one by one: httpx.Headers replaces case-insensitively, so a base header cannot
    # smuggle in a second, different case id.
    headers[CASE_HEADER] = header_value(case_id)
    headers[PURPOSE_HEADER] = header_value(purpose)
    headers[ATTEMPT_HEADER] = str(attempt)
    headers[IDEMPOTENCY_HEADER] = header_value(idempotency_key)
    if end_user:
        headers[END_USER_HEADER] = header_value(end_user)
    else:
        headers.pop(END_USER_HEADER, None)
    client = httpx.Client(
        headers=headers,
        timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
        transport=transport,
        # A redirect could carry a citizen's data to a host nobody configured.
        follow_redirects=False,
    )
    return ConnectorContext(
        http=client, case_id=case_id, purpose=purpose, end_user=end_user or None, attempt=attempt,
        idempotency_key=idempotency_key, logger=logger or logging.getLogger("panjereh.connectors"),
        secrets=owned_secrets(connector_id, secrets or {}, connector_ids), connector_id=connector_id)
