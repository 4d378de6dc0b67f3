"""The one way the built-in connectors make an HTTP call and read its answer."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.failures import from_http_error, from_response
from connectors.sdk import ConnectorContext


def request(ctx: ConnectorContext, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send, turning network trouble and unsuccessful answers into ConnectorErrors."""
    try:
        response = ctx.http.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise from_http_error(error) from error
    if response.status_code >= 400:
        raise from_response(response)
    return response
