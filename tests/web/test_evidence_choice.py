"""When the model asks, the citizen sees what another agency holds and either uses it or
declines and uploads a document instead."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from tests.fixtures import Tokens, model_files
from tests.web.journey import CITIZEN, PDF, csrf, sign_in, text


def _case(client: TestClient, runtime: Runtime, tokens: Tokens) -> str:
    assert client.post("/api/v1/deployments", files=model_files("evidence_choice.bpmn"),
                       headers=tokens.headers("analyst")).status_code == 201
    with runtime.unit_of_work() as session:
        token = create_token(session, "citizen", CITIZEN)
    started = client.post("/api/v1/processes/evidence_choice/instances", json={"data": {}},
                          headers={"Authorization": f"Bearer {token}"})
    assert started.status_code == 201
    sign_in(client, runtime)
    return str(started.json()["id"])


def test_citizen_uses_the_registry_record(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    case = _case(client, runtime, tokens)
    page = client.get(f"/cases/{case}/next")
    shown = text(page.text)
    assert "علی رضایی" in shown and "1365" in shown.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    assert "Use these details?" in shown
    action = re.search(r'<form method="post" action="([^"]+/pages/0)"', page.text).group(1)  # type: ignore[union-attr]
    check = client.post(action, data={"csrf_token": csrf(page.text), "use_registry": "yes"})
    assert "/check" in str(check.url), "the upload is hidden when the record is used"
    done = client.post(str(check.url), data={"csrf_token": csrf(check.text)})
    assert done.status_code == 200
    status = client.get(f"/api/v1/instances/{case}", headers=tokens.headers("admin")).json()
    assert status["status"] == "completed" and status["data"]["use_registry"] == "yes"
    assert "birth_certificate" not in status["data"]


def test_citizen_declines_and_uploads_instead(client: TestClient, runtime: Runtime, tokens: Tokens) -> None:
    case = _case(client, runtime, tokens)
    page = client.get(f"/cases/{case}/next")
    action = re.search(r'<form method="post" action="([^"]+/pages/0)"', page.text).group(1)  # type: ignore[union-attr]
    upload_page = client.post(action, data={"csrf_token": csrf(page.text), "use_registry": "no"})
    assert "/pages/1" in str(upload_page.url)
    missing = client.post(str(upload_page.url), data={"csrf_token": csrf(upload_page.text)})
    assert missing.status_code == 422
    check = client.post(str(upload_page.url), data={"csrf_token": csrf(upload_page.text)},
                        files={"birth_certificate": ("certificate.pdf", PDF, "application/pdf")})
    assert "/check" in str(check.url)
    client.post(str(check.url), data={"csrf_token": csrf(check.text)})
    status = client.get(f"/api/v1/instances/{case}", headers=tokens.headers("admin")).json()
    assert status["status"] == "waiting"
    assert [t["name"] for t in status["tasks"] if t["status"] == "ready"] == ["check_document"]
    assert len(status["data"]["birth_certificate"]) == 36
