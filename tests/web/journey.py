"""Helpers to walk the portal like a browser without JavaScript would (forms and redirects)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from itertools import count
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.simulators.mobile_registry import owns
from engine.db.models import OutboxMessage
from engine.services.catalogue import deploy_catalogue
from engine.services.runtime import Runtime
from forms.identifiers import check_national_code
from tests.fixtures import ROOT

CITIZEN = "0013542419"
MOBILE = "09121234567"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def ask_code(client: Any, national: str = CITIZEN, mobile: str = MOBILE, **headers: str) -> Any:
    """Ask for a sign-in code as the form does; the response (the code page when it worked)."""
    page = client.get("/sign-in")
    return client.post("/sign-in", headers=headers, data={"csrf_token": csrf(page.text), "national_code": national,
                                                          "mobile": mobile, "next": "/cases"})


def challenge_of(code_page: str) -> str:
    """The challenge id a code page carries."""
    found = re.search(r'name="challenge" value="([^"]+)"', code_page)
    assert found, "not a code page"
    return found.group(1)


def texted_code(runtime: Runtime, mobile: str = MOBILE) -> str:
    """The newest one-time code the development outbox holds for `mobile`."""
    with runtime.reading() as session:
        body = session.execute(select(OutboxMessage.body).where(OutboxMessage.recipient == mobile)
                               .order_by(OutboxMessage.id.desc())).scalars().first()
    assert body is not None
    code = re.search(r"\d{6}", body.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
    assert code
    return code.group(0)


def sign_in(client: TestClient, runtime: Runtime, national: str = CITIZEN, mobile: str = MOBILE) -> None:
    response = ask_code(client, national, mobile)
    assert response.status_code == 200, response.text
    verified = client.post("/sign-in/code", data={
        "csrf_token": csrf(response.text), "code": texted_code(runtime, mobile),
        "challenge": challenge_of(response.text), "next": "/cases"})
    assert verified.status_code == 200 and "/cases" in str(verified.url)


def people() -> Iterator[tuple[str, str]]:
    """Valid (national code, mobile) pairs the simulated mobile registry says belong together."""
    for number in count(1_000_000):
        national = f"{number:010d}"
        if check_national_code(national) is None:
            mobile = f"0912{number % 10**7:07d}"
            if owns(national, mobile):
                yield national, mobile


def ready_catalogue(runtime: Runtime) -> None:
    deploy_catalogue(runtime, ROOT / "processes")
