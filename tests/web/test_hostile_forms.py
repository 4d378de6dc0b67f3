"""A page's plain (URL-encoded) form post is bounded before it is parsed: more separators than a
form has fields, or more bytes than a task's answers, is refused (400, 413) without the parser
spending event-loop time on it; every ordinary form still works, up to the field limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.services.runtime import Runtime
from engine.web.page_context import MAX_FORM_FIELDS
from tests.web.journey import CITIZEN, MOBILE, csrf

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PAGES = ["/sign-in", "/sign-in/code", "/track", "/staff/sign-in", "/analyst/sign-in"]


@pytest.mark.parametrize("body", [b"&" * 1_000_000, b";" * 1_000_000, b"&;" * 500_000,
                                  b"a=1&" * (MAX_FORM_FIELDS + 1)], ids=["amps", "semicolons", "both", "fields"])
def test_a_form_with_more_separators_than_fields_is_refused_unread(client: TestClient, body: bytes) -> None:
    for path in PAGES:
        response = client.post(path, content=body, headers=FORM)
        assert response.status_code == 400, (path, response.status_code, response.text[:200])
        assert str(MAX_FORM_FIELDS) in response.text


def test_a_form_longer_than_a_tasks_answers_is_refused_unread(client: TestClient, runtime: Runtime) -> None:
    half = runtime.settings.max_data_bytes // 2 + 50_000
    body = b"a=" + b"x" * half + b"&b=" + b"y" * half
    for path in PAGES:
        response = client.post(path, content=body, headers=FORM)
        assert response.status_code == 413, (path, response.status_code, response.text[:200])


def test_forms_up_to_the_field_limit_are_read_as_before(client: TestClient) -> None:
    page = client.get("/sign-in")
    fields = {"csrf_token": csrf(page.text), "national_code": CITIZEN, "mobile": "0912", "next": "/cases"}
    fields.update({f"extra{i}": "" for i in range(MAX_FORM_FIELDS - len(fields))})
    answered = client.post("/sign-in", data=fields)
    assert answered.status_code == 422 and "f-mobile" in answered.text, answered.text[:300]
    fields["mobile"] = MOBILE
    assert client.post("/sign-in", data=fields, follow_redirects=False).status_code == 303
