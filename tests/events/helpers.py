"""Driving event models through the API and the tick, as an operator would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.db.base import utcnow
from engine.db.models import AuditEvent
from engine.services import event_delivery
from engine.services.runtime import Runtime
from tests.fixtures import Tokens, model_files


def deploy(client: TestClient, tokens: Tokens, *names: str) -> None:
    response = client.post("/api/v1/deployments", files=model_files(*(f"events/{n}" for n in names)),
                           headers=tokens.headers("analyst"))
    assert response.status_code in (200, 201), response.text


def start(client: TestClient, tokens: Tokens, key: str, data: dict[str, Any] | None = None) -> str:
    response = client.post(f"/api/v1/processes/{key}/instances", json={"data": data or {}},
                           headers=tokens.headers("analyst"))
    assert response.status_code == 201, response.text
    assert response.json()["error"] is None, response.json()["error"]
    return str(response.json()["id"])


def instance(client: TestClient, tokens: Tokens, instance_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/instances/{instance_id}", headers=tokens.headers("admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def later(**delta: float) -> datetime:
    """A `now` for the tick that lies `delta` ahead, so no test waits for real time to pass."""
    return utcnow() + timedelta(**delta)


def tick(runtime: Runtime, **delta: float) -> event_delivery.TickReport:
    return event_delivery.tick(runtime, later(**delta))


def audit_actions(runtime: Runtime, instance_id: str) -> list[tuple[str, str | None]]:
    with runtime.reading() as session:
        rows = session.execute(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                               .order_by(AuditEvent.id)).scalars().all()
        return [(row.action, row.subject) for row in rows]


def message(client: TestClient, tokens: Tokens, name: str, correlation: str | None, payload: dict[str, Any],
            expect: int = 200, **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/messages", headers=tokens.headers("admin"),
                           json={"name": name, "correlation": correlation, "payload": payload, **extra})
    assert response.status_code == expect, response.text
    return dict(response.json())
