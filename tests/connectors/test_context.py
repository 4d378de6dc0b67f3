"""The HTTP context of one call: what every agency receives, and how long we wait."""

import logging

import httpx
import pytest

from connectors.call_context import header_value, make_context


def _sent(**options):
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={})

    options = {"timeout": 10.0, "case_id": "case-7", "purpose": "business_permit", "idempotency_key": "call-1",
               **options}
    ctx = make_context(transport=httpx.MockTransport(handler), **options)
    with ctx.http:
        ctx.http.get("http://agency.test/persons")
    return ctx, seen[0]


def test_every_request_carries_the_case_purpose_user_attempt_and_idempotency_key():
    ctx, request = _sent(end_user="0012345678", attempt=3)

    assert request.headers["X-Panjereh-Case"] == "case-7"
    assert request.headers["X-Panjereh-Purpose"] == "business_permit"
    assert request.headers["X-Panjereh-End-User"] == "0012345678"
    assert request.headers["X-Panjereh-Attempt"] == "3"
    assert request.headers["Idempotency-Key"] == "call-1"
    assert (ctx.case_id, ctx.purpose, ctx.end_user, ctx.attempt, ctx.idempotency_key) == (
        "case-7", "business_permit", "0012345678", 3, "call-1")


def test_no_end_user_header_when_the_citizen_is_unknown():
    _, request = _sent(base_headers={"X-Panjereh-End-User": "smuggled"})
    assert "X-Panjereh-End-User" not in request.headers


def test_base_headers_are_sent_but_cannot_override_the_context():
    _, request = _sent(base_headers={"X-Api-Key": "k", "x-panjereh-case": "other-case"})

    assert request.headers["X-Api-Key"] == "k"
    assert request.headers.get_list("X-Panjereh-Case") == ["case-7"]


def test_persian_and_line_breaks_are_percent_encoded():
    _, request = _sent(purpose="صدور پروانه\r\nX-Evil: 1")

    sent = request.headers["X-Panjereh-Purpose"]
    assert sent.isascii() and "\n" not in sent
    assert "X-Evil" not in request.headers
    assert header_value("business_permit") == "business_permit"
    assert header_value("50%") == "50%25"


def test_timeouts_connect_quickly_and_read_as_long_as_asked():
    ctx = make_context(timeout=20.0, case_id="c", purpose="p", idempotency_key="k")
    with ctx.http:
        timeout = ctx.http.timeout
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (3.0, 20.0, 20.0, 20.0)
    assert ctx.http.follow_redirects is False


def test_a_short_timeout_also_bounds_connecting():
    ctx = make_context(timeout=1.5, case_id="c", purpose="p", idempotency_key="k")
    with ctx.http:
        assert ctx.http.timeout.connect == 1.5


def test_secrets_and_logger_reach_the_context():
    logger = logging.getLogger("panjereh.connectors.test")
    ctx = make_context(timeout=5, case_id="c", purpose="p", idempotency_key="k", connector_id="post",
                       secrets={"POST_API_KEY": "b"}, logger=logger)
    with ctx.http:
        assert ctx.secret("post_api_key") == "b"
        assert ctx.logger is logger


@pytest.mark.parametrize("bad", [{"timeout": 0}, {"attempt": 0}])
def test_nonsense_is_refused(bad):
    options = {"timeout": 5.0, "case_id": "c", "purpose": "p", "idempotency_key": "k", **bad}
    with pytest.raises(ValueError):
        make_context(**options)
