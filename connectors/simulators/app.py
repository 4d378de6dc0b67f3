"""The sandbox app: every simulated agency under its prefix, plus the switches at ``/_sandbox``.

Admin endpoints (``Authorization: Bearer <PANJEREH_SANDBOX_ADMIN_KEY>`` when that is set):

- ``GET /_sandbox/status`` -> ``{"services": {"sms": {"prefix": "/sms", "down": false, "down_for_s": null,
  "requests": 3, "side_effects": 1}, ...}}``; ``down_for_s`` is null while up or for an open-ended outage.
- ``POST /_sandbox/outage`` ``{"service": "sms" | "*", "down": true, "seconds": 30}`` (``seconds`` optional:
  without it the outage lasts until switched off) -> the same shape as status.
- ``GET /_sandbox/log?service=sms&case=...&limit=100`` -> ``{"entries": [LogEntry, ...]}``, oldest first.
"""

from __future__ import annotations

import hmac
import math
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.types import ASGIApp

from connectors.simulators import (
    business_registry,
    civil_registry,
    conscription,
    engineering_org,
    fire_department,
    health_ministry,
    insurer,
    judiciary,
    land_registry,
    mail,
    mobile_registry,
    notary,
    passport_office,
    payment,
    post,
    sms,
    tax,
    traffic_fines,
    vehicle_registry,
    vehicle_tax,
    zoning,
)
from connectors.simulators.behaviour import AgencyGate, Sandbox
from connectors.simulators.settings import SERVICES, SandboxSettings
from forms.dates import today_in_iran


class OutageSwitch(BaseModel):
    service: str = Field(description='a service id such as "civil_registry" (or its prefix), or "*" for all')
    down: bool
    seconds: float | None = Field(None, gt=0, le=86_400)


def _status(sandbox: Sandbox) -> dict[str, Any]:
    now = sandbox.clock()
    services = {}
    for service, state in sandbox.services.items():
        left = state.outage_left(now)
        services[service] = {
            "prefix": SERVICES[service], "down": left is not None,
            "down_for_s": None if left is None or math.isinf(left) else round(left, 3),
            "requests": state.requests, "side_effects": state.side_effects,
        }
    return {"services": services}


def _admin_routes(app: FastAPI, sandbox: Sandbox) -> None:
    key = sandbox.settings.admin_key

    def admin(request: Request) -> None:
        if key is None:
            return
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {key.get_secret_value()}".encode()):
            raise HTTPException(401, "admin key required", headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(admin)]

    @app.get("/_sandbox/status", dependencies=guarded)
    async def status() -> dict[str, Any]:
        """Each agency: up or down, requests seen, side effects done."""
        return _status(sandbox)

    @app.post("/_sandbox/outage", dependencies=guarded)
    async def outage(switch: OutageSwitch) -> dict[str, Any]:
        """Take an agency (or all) down, for a time or until switched back."""
        wanted = switch.service.strip("/").replace("-", "_")
        if wanted != "*" and wanted not in sandbox.services:
            raise HTTPException(404, f"unknown service; known: {sorted(sandbox.services)}")
        for service, state in sandbox.services.items():
            if wanted in ("*", service):
                state.set_down(switch.down, switch.seconds, sandbox.clock())
        return _status(sandbox)

    @app.get("/_sandbox/log", dependencies=guarded)
    async def log(service: str | None = None, case: str | None = None,
                  limit: Annotated[int, Query(ge=0, le=10_000)] = 100) -> dict[str, Any]:
        """The access log, oldest first, as a security server keeps one."""
        return {"entries": [entry.as_json() for entry in sandbox.log.select(service, case, limit)]}


def create_sandbox_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Every simulated agency behind its behaviour gate, mounted under its prefix.

    Args:
        settings: behaviour and secrets; read from ``PANJEREH_SANDBOX_*`` when omitted.
    """
    sandbox = Sandbox(settings or SandboxSettings())
    states = {service: sandbox.add_service(service) for service in SERVICES}
    agencies: dict[str, ASGIApp] = {
        "civil_registry": civil_registry.build(),
        "mobile_registry": mobile_registry.build(),
        "post": post.build(states["post"], lambda: sandbox.clock()),
        "tax": tax.build(),
        "business_registry": business_registry.build(),
        "sms": sms.build(states["sms"], sandbox.settings.sms_api_key, sandbox.settings.sms_outbox_size),
        "mail": mail.build(states["mail"], sandbox.settings.mail_api_key),
        "judiciary": judiciary.build(),
        "conscription": conscription.build(),
        "health_ministry": health_ministry.build(),
        "land_registry": land_registry.build(),
        "zoning": zoning.build(),
        "engineering_org": engineering_org.build(),
        "fire_department": fire_department.build(),
        "payment": payment.build(states["payment"], sandbox.settings.payment_api_key, sandbox.settings.seed,
                                 lambda: sandbox.clock()),
        "passport_office": passport_office.build(states["passport_office"], today_in_iran),
        "vehicle_registry": vehicle_registry.build(),
        "traffic_fines": traffic_fines.build(),
        "vehicle_tax": vehicle_tax.build(),
        "insurer": insurer.build(),
        "notary": notary.build(states["notary"]),
    }
    app = FastAPI(title="Panjereh sandbox agencies", version="sandbox",
                  description="Simulated government systems with synthetic data, for demos and tests.")
    # Reachable from the embedding server and from tests without going through HTTP.
    app.state.sandbox = sandbox
    _admin_routes(app, sandbox)
    for service, prefix in SERVICES.items():
        app.mount(prefix, AgencyGate(agencies[service], states[service], sandbox))
    return app
