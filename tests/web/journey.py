"""Helpers to walk the portal like a browser without JavaScript would (forms and redirects)."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.models import OutboxMessage
from engine.services.catalogue import deploy_catalogue
from engine.services.runtime import Runtime
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


def sign_in(client: TestClient, runtime: Runtime, national: str = CITIZEN, mobile: str = MOBILE) -> None:
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": csrf(page.text), "national_code": national,
                                              "mobile": mobile, "next": "/cases"})
    assert response.status_code == 200, response.text
    with runtime.reading() as session:
        body = session.execute(select(OutboxMessage.body).order_by(OutboxMessage.id.desc())).scalars().first()
    assert body is not None
    code = re.search(r"\d{6}", body.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
    assert code
    verified = client.post("/sign-in/code", data={
        "csrf_token": csrf(response.text), "code": code.group(0),
        "challenge": re.search(r'name="challenge" value="([^"]+)"', response.text).group(1),  # type: ignore[union-attr]
        "next": "/cases"})
    assert verified.status_code == 200 and "/cases" in str(verified.url)


def ready_catalogue(runtime: Runtime) -> None:
    deploy_catalogue(runtime, ROOT / "processes")
