"""Turning HTTP failures inside an operation into `ConnectorError`s the engine can act on.

An operation may simply call ``response.raise_for_status()`` or let a timeout escape; the
registry translates those here, so every connector reports the same codes for the same
trouble. Messages name the agency's host and the status, never the URL path or query,
which often carry a national code.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from connectors.sdk import ConnectorError

# An agency asking for more than an hour is down for our purposes; backoff takes over.
MAX_RETRY_AFTER = 3600.0

# Failures only an operator can fix: the call was never made (no address, no secret, no such
# connector) or its answer cannot enter a case. Trying again cannot help, and they say nothing
# about the citizen, so a process model must never see them as an answer: the engine opens an
# incident at once, whether or not the error says it is retryable.
NOT_SENT_CODES = frozenset({"not-configured", "secret-missing", "unknown-operation"})
INCIDENT_CODES = NOT_SENT_CODES | {"result-too-large", "result-too-deep"}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), capped; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def from_response(response: httpx.Response) -> ConnectorError:
    """The error an unsuccessful agency answer stands for."""
    status = response.status_code
    try:
        host = response.request.url.host
    except RuntimeError:  # a response built by hand, never sent
        host = "the agency"
    said = f"{host} answered HTTP {status}"
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if status == 429:
        return ConnectorError("agency-busy", said, retryable=True, retry_after=retry_after)
    if status == 408 or status >= 500:
        return ConnectorError("agency-unavailable", said, retryable=True, retry_after=retry_after)
    if status == 404:
        return ConnectorError("not-found", said)
    if status in (401, 403):
        return ConnectorError("agency-refused", said)
    return ConnectorError("agency-rejected", said)


def from_http_error(error: httpx.HTTPError) -> ConnectorError:
    """The error an httpx exception stands for: network trouble is worth retrying, a refusal is not."""
    if isinstance(error, httpx.HTTPStatusError):
        return from_response(error.response)
    try:
        host = error.request.url.host
    except RuntimeError:  # an error raised before any request existed
        host = "the agency"
    if isinstance(error, httpx.UnsupportedProtocol):
        # The address itself is unusable (no scheme, an empty setting): the operator's to fix,
        # and never something the agency said.
        return ConnectorError("not-configured", f"the connector's address is not an http(s) URL ({error}); check "
                              "its base_url setting")
    if isinstance(error, httpx.TimeoutException):
        return ConnectorError("agency-timeout", f"{host} did not answer in time ({type(error).__name__})",
                              retryable=True)
    if isinstance(error, httpx.TransportError):
        return ConnectorError("agency-unreachable", f"could not reach {host} ({type(error).__name__})",
                              retryable=True)
    return ConnectorError("agency-request-failed", f"the request to {host} failed ({type(error).__name__})")
